"""The JCGM 102 view: the joint covariance and correlation of the outputs, from the sensitivities
(gum) and from the draws (mc), checked against the `uncertainties` package and each other."""

from __future__ import annotations

import numpy as np
import pytest

from nassb.inference import CellModel, propagate_gum, propagate_mc
from nassb.inference.result import Result
from nassb.priors import load_card

from ..conftest import evaluate_with_uncertainties


@pytest.fixture(scope="module")
def cell1():
    return CellModel(load_card("paper-cell-1"))


def test_first_order_covariance_matches_the_uncertainties_package(cell1):
    uncertainties = pytest.importorskip("uncertainties")
    expected = evaluate_with_uncertainties(cell1)
    result = propagate_gum(cell1)
    cov = result.covariance()
    names = [str(n) for n in cov["row"].values]
    # Exactly the outputs that vary: C_theo and the utilisation are exact for the paper's cell.
    assert names == [q for q in result.quantities if q not in ("C_theo", "utilisation")]
    matrix = np.array(uncertainties.covariance_matrix([expected[n] for n in names]))
    np.testing.assert_allclose(cov.values, matrix, rtol=1e-9, atol=1e-12)
    corr = result.correlation()
    np.testing.assert_allclose(np.diag(corr.values), 1.0)
    np.testing.assert_allclose(corr.values, corr.values.T)
    # The two energy densities share every thickness: strongly correlated, not independent.
    assert corr.sel(row="E_V_real", column="E_m_real").item() == pytest.approx(0.838, abs=0.002)
    # The resistances share nothing with the energies but the separator thickness.
    assert abs(corr.sel(row="R_interface", column="E_V_real").item()) < 1e-12


def test_monte_carlo_covariance_agrees_with_first_order_and_its_own_sds(cell1):
    mc = propagate_mc(cell1, draws=400_000, seed=12)
    gum = propagate_gum(cell1)
    cov = mc.covariance()
    for name in ("E_V_real", "E_m_theo", "R_separator"):
        assert cov.sel(row=name, column=name).item() == pytest.approx(mc[name]["sd"] ** 2, rel=1e-9)
    for a, b in (("E_V_real", "E_m_real"), ("E_V_theo", "d_anode_theo"), ("E_V_real", "R_separator")):
        assert mc.correlation().sel(row=a, column=b).item() == pytest.approx(
            gum.correlation().sel(row=a, column=b).item(), abs=0.01), (a, b)


def test_the_covariance_is_in_the_json_and_survives_netcdf(cell1, tmp_path):
    mc = propagate_mc(cell1, draws=20_000, seed=3)
    doc = mc.to_json()["covariance"]
    assert set(doc) == {"names", "units", "matrix", "correlation"}
    assert doc["units"][doc["names"].index("E_V_real")] == "Wh/l"
    assert np.array(doc["matrix"]).shape == (len(doc["names"]),) * 2
    back = Result.from_netcdf(mc.to_netcdf(tmp_path / "mc.nc"))
    np.testing.assert_allclose(back.covariance().values, mc.covariance().values)
    assert back.conventions == mc.conventions


def test_an_output_without_a_variance_is_left_out_with_a_note(write_card):
    path = write_card('base = "paper-cell-1"\n[materials.nzsp-tape]\nconductivity = "0.5 ± 0.1 mS/cm"\n')
    doc = propagate_mc(CellModel(load_card(path)), draws=50_000, seed=1).to_json()["covariance"]
    assert "R_separator" not in doc["names"] and "R_separator" in doc["note"]
    assert "E_V_real" in doc["names"]
