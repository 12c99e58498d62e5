"""First order against an independent autodiff, Monte Carlo against known distributions, and
the properties every cell must have."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nassb.inference import CellModel, propagate_gum, propagate_mc, sensitivities
from nassb.inference.montecarlo import interval_statistics, numerical_tolerance
from nassb.inference.result import Result
from nassb.priors import load_card

from ..conftest import REPO, evaluate_with_uncertainties

LI_CARD = REPO / "priors" / "examples" / "li-garnet-nmc.toml"


@pytest.fixture(scope="module")
def cell1():
    return CellModel(load_card("paper-cell-1"))


def test_gum_agrees_with_the_uncertainties_package(cell1):
    expected = evaluate_with_uncertainties(cell1)
    got = propagate_gum(cell1)
    for q, value in expected.items():
        if not hasattr(value, "std_dev"):
            continue
        assert got[q]["mean"] == pytest.approx(value.nominal_value, rel=1e-12)
        assert got[q]["sd"] == pytest.approx(value.std_dev, rel=1e-9)


def test_complex_step_derivatives_match_central_differences(cell1):
    point = cell1.nominal()
    _, derivatives = sensitivities(cell1, point)
    for i, name in enumerate(cell1.uncertain):
        h = 1e-6 * max(abs(point[name]), 1.0)
        up = cell1.evaluate({**point, name: point[name] + h})
        down = cell1.evaluate({**point, name: point[name] - h})
        for q in ("E_V_theo", "E_m_real", "R_separator"):
            fd = (up[q] - down[q]) / (2 * h)
            assert derivatives[q][i] == pytest.approx(fd, rel=1e-5, abs=1e-9), (q, name)


def test_budget_of_a_sum_of_thicknesses(cell1):
    # E_V depends on the four thickness inputs only through their sum, with one sensitivity:
    # their variance shares are u_i^2 / sum(u^2) = 10^2, 5^2, 4^2, 3.3^2 over their total.  The
    # plated layer's relative deviation (3.3 um of 19.0 um) is cut at -1 (no negative layer),
    # 5.7 sd away: its sd is smaller by about 1e-7.
    budget = {e["input"]: e for e in propagate_gum(cell1).budget("E_V_real")}
    total = 10**2 + 5**2 + 4**2 + 3.3**2
    for name, u in (("cathode.thickness", 10), ("anode.reservoir_thickness", 5),
                    ("separator.thickness", 4), ("anode.plating", 3.3)):
        assert budget[name]["share"] == pytest.approx(u**2 / total, rel=1e-6), name
    assert budget["cathode.thickness"]["sensitivity"] == pytest.approx(budget["separator.thickness"]["sensitivity"])
    swell = 1e4 / (1166 * 0.968)
    assert budget["anode.plating"]["sd"] == pytest.approx(3.3 / (swell * 2.14), rel=1e-6)


def test_a_linear_output_has_no_first_order_error():
    # d_anode = reservoir + s C + plating is linear in the uncertain inputs: Monte Carlo and
    # first order must agree to Monte Carlo error, and section 8 must call first order adequate.
    model = CellModel(load_card("paper-cell-2"))
    gum = propagate_gum(model)["d_anode_real"]
    result = propagate_mc(model, draws=400_000, seed=11)
    mc = result["d_anode_real"]
    assert mc["mean"] == pytest.approx(gum["mean"], abs=4 * gum["sd"] / math.sqrt(400_000))
    assert mc["sd"] == pytest.approx(gum["sd"], rel=0.01)
    assert result.first_order_check("d_anode_real")["adequate"]


def test_intervals_of_known_distributions():
    rng = np.random.default_rng(0)
    normal = rng.normal(10.0, 2.0, 1_000_000)
    sym_lo, sym_hi, short_lo, short_hi = interval_statistics(normal)
    for got, want in ((sym_lo, 10 - 1.96 * 2), (sym_hi, 10 + 1.96 * 2), (short_lo, 10 - 3.92), (short_hi, 10 + 3.92)):
        assert got == pytest.approx(want, abs=0.02)
    # An exponential's shortest 95 % interval is [0, -ln 0.05]; its symmetric one is not.
    expo = rng.exponential(1.0, 1_000_000)
    sym_lo, sym_hi, short_lo, short_hi = interval_statistics(expo)
    assert short_lo == pytest.approx(0.0, abs=1e-3)
    assert short_hi == pytest.approx(-math.log(0.05), abs=0.02)
    assert sym_lo == pytest.approx(-math.log(0.975), abs=0.002)
    assert sym_hi == pytest.approx(-math.log(0.025), abs=0.03)


def test_numerical_tolerance_follows_jcgm_101():
    assert numerical_tolerance(11.1, 2) == 0.5
    assert numerical_tolerance(9.64, 2) == pytest.approx(0.05)
    assert numerical_tolerance(0.0312, 1) == pytest.approx(0.005)


def test_seeded_monte_carlo_reproduces(cell1):
    a = propagate_mc(cell1, draws=50_000, seed=7).summary()
    b = propagate_mc(cell1, draws=50_000, seed=7).summary()
    c = propagate_mc(cell1, draws=50_000, seed=8).summary()
    assert a == b
    assert a != c


@pytest.mark.slow
def test_adaptive_monte_carlo_reaches_the_requested_digits(cell1):
    result = propagate_mc(cell1, seed=3, digits=2, batch=50_000)
    assert result.dataset.attrs["converged"]
    draws = result.dataset.attrs["draws"]
    assert 100_000 <= draws < 5_000_000
    # Stable to 2 significant digits of u: a rerun with another seed agrees within tolerance.
    other = propagate_mc(cell1, seed=4, digits=2, batch=50_000)
    for q in ("E_V_real", "E_m_real"):
        tol = numerical_tolerance(result[q]["sd"], 2)
        assert abs(result[q]["mean"] - other[q]["mean"]) <= 4 * tol


def test_li_garnet_nmc_card_needs_no_code():
    # Li | LLZO | NMC811 from the example card, checked against the equations by hand.
    result = propagate_gum(CellModel(load_card(LI_CARD)))
    c_theo = 22 * 1e-3 * 0.8 * 200                              # mAh/cm2
    swell = 1e4 / (3860 * 0.534)                                # um per mAh/cm2
    d_anode = 20 + swell * 3.4
    e_v = 3.75 * 3.4 / ((d_anode + 30 + 80) * 1e-4)
    porosity = 1 - 22e-3 / (3.9 * 80e-4)
    mass = (0.534 * d_anode + 5.1 * 30 + 80 * 3.9 * (1 - porosity)) * 1e-4
    assert result["C_theo"]["mean"] == pytest.approx(c_theo, rel=1e-9)
    assert result["E_V_real"]["mean"] == pytest.approx(e_v, rel=1e-9)
    assert result["E_m_real"]["mean"] == pytest.approx(3.75 * 3.4 / mass, rel=1e-9)
    # 0.5 ± 0.1 mS/cm is truncated at zero (5 sd away): its mean moves by a few 1e-7.
    assert result["R_separator"]["mean"] == pytest.approx(0.1 * 30 / 0.5, rel=1e-5)


def test_measured_charged_thickness_replaces_the_reservoir(write_card):
    path = write_card("""
        base = "paper-cell-1"
        [anode]
        charged_thickness = "55 ± 6 um"
    """)
    result = propagate_gum(CellModel(load_card(path)))
    assert result["d_anode_real"]["mean"] == pytest.approx(55.0)
    assert result["d_anode_real"]["sd"] == pytest.approx(6.0)
    swell = 1e4 / (1166 * 0.968)
    assert result["d_anode_theo"]["mean"] == pytest.approx(55.0 + swell * (2.52 - 2.14))


@settings(max_examples=60, deadline=None)
@given(
    d_sep=st.floats(5, 500), d_cat=st.floats(5, 500), reservoir=st.floats(0, 200),
    porosity=st.floats(0.01, 0.99), capacity=st.floats(0.05, 10), bump=st.floats(0.01, 50),
)
def test_energy_density_properties(cell1, d_sep, d_cat, reservoir, porosity, capacity, bump):
    x = {**cell1.nominal(), "separator.thickness": d_sep, "cathode.thickness": d_cat,
         "anode.reservoir_thickness": reservoir, "cathode.porosity": porosity,
         "cathode.theoretical_capacity": capacity}
    y = cell1.evaluate(x)
    assert y["E_V_theo"] > 0 and y["E_m_theo"] > 0
    # Upper bound: the stack holds at least the plated metal itself.
    swell = 1e4 / (1166 * 0.968)
    assert y["E_V_theo"] < 3.4 / (swell * 1e-4)
    for key in ("separator.thickness", "cathode.thickness", "anode.reservoir_thickness"):
        thicker = cell1.evaluate({**x, key: x[key] + bump})
        assert thicker["E_V_theo"] < y["E_V_theo"]
        assert thicker["E_m_theo"] < y["E_m_theo"]
    # A more porous cathode of the same thickness weighs less (liquid lighter than solid).
    lighter = cell1.evaluate({**x, "cathode.porosity": min(porosity + 0.005, 0.995)})
    assert lighter["E_m_theo"] > y["E_m_theo"]
    assert lighter["E_V_theo"] == pytest.approx(y["E_V_theo"])


@settings(max_examples=40, deadline=None)
@given(t1=st.floats(233, 373), dt=st.floats(0.5, 40))
def test_resistances_fall_with_temperature(cell1, t1, dt):
    x = cell1.nominal()
    cold = cell1.evaluate({**x, "cell.temperature": t1})
    warm = cell1.evaluate({**x, "cell.temperature": t1 + dt})
    assert warm["R_separator"] < cold["R_separator"]
    assert warm["R_interface"] < cold["R_interface"]


def test_resistances_follow_the_papers_arrhenius_numbers():
    # Eq. 4 from 30 to 25 degC: 1.6 mS/cm at 0.28 eV gives 1.337 (the paper quotes 1.3 ± 0.3);
    # 1.5 ohm cm2 at 0.41 eV gives 1.951 (the paper quotes 1.8 ± 0.8, which covers it).
    model = CellModel(load_card("paper-cell-1"))
    # The reported values themselves, not the card's truncated-prior means.
    y = model.evaluate({**model.nominal(), "cell.temperature": 298.15, "nzsp-tape.conductivity": 1.6,
                        "nzsp-tape.interface_resistance": 1.5})
    assert 0.1 * 50 / y["R_separator"] == pytest.approx(1.337, abs=0.001)
    assert y["R_interface"] == pytest.approx(1.951, abs=0.001)


@pytest.mark.slow
def test_the_same_model_runs_as_a_pytensor_graph(cell1):
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    symbols = {name: pt.dscalar(name.replace(".", "_").replace("-", "_")) for name in cell1.inputs}
    outputs = cell1.evaluate(symbols, xp=pt)
    names = list(outputs)
    fn = pytensor.function(list(symbols.values()), [outputs[n] for n in names], on_unused_input="ignore")
    point = cell1.nominal()
    got = fn(*[point[name] for name in symbols])
    expected = cell1.evaluate(point)
    for name, value in zip(names, got):
        assert float(value) == pytest.approx(float(expected[name]), rel=1e-12), name


def test_uncertain_cell_temperature_without_reference_keeps_measured_resistances(write_card):
    # Resistances given with no reference temperature were measured at the cell temperature:
    # an uncertain cell temperature must not add Arrhenius scatter to them.
    path = write_card("""
        base = "paper-cell-1"
        [cell]
        temperature = "30 ± 2 degC"
        [materials.flat]
        density = "3.3 g/cm3"
        conductivity = "1.6 mS/cm"
        interface_resistance = "1.5 ohm*cm^2"
        activation_energy = "0.28 eV"
        interface_activation_energy = "0.41 eV"
        [separator]
        material = "flat"
    """)
    result = propagate_gum(CellModel(load_card(path)))
    assert result["R_separator"]["sd"] == pytest.approx(0.1 * 4 / 1.6, rel=1e-9)  # thickness only
    assert result["R_interface"]["sd"] == 0


def test_results_write_netcdf_atomically(cell1, tmp_path, monkeypatch):
    import xarray as xr

    result = propagate_mc(cell1, draws=20_000, seed=1, keep_draws=True)
    path = result.to_netcdf(tmp_path / "out" / "cell1.nc")
    assert sorted(p.name for p in path.parent.iterdir()) == ["cell1.nc"]
    with xr.open_dataset(path, engine="h5netcdf", group="summary") as back:
        assert float(back["mean"].sel(quantity="E_V_real")) == pytest.approx(result["E_V_real"]["mean"])
        assert back.attrs["seed"] == 1
    with xr.open_dataset(path, engine="h5netcdf", group="posterior") as draws:  # Monte Carlo as one chain
        assert draws["E_V_real"].shape == (1, 20_000)
    loaded = Result.from_netcdf(path)  # a saved result loads back as what it was
    assert type(loaded) is type(result) and loaded.summary() == result.summary()
    assert loaded.first_order_check("E_V_real") == result.first_order_check("E_V_real")
    assert np.array_equal(loaded.draws("E_m_real"), result.draws("E_m_real"))
    before = path.read_bytes()

    # A write that dies half way leaves the old file whole and no temporary file behind.
    def fail(self, *args, **kwargs):
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", fail)
    with pytest.raises(RuntimeError):
        propagate_mc(cell1, draws=1000, seed=2).to_netcdf(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["cell1.nc"]


def test_symmetric_interval_follows_jcgm_101_order_statistics():
    # M = 101, q = round(0.95 M) = 96, M - q = 5 (odd): r = (M - q + 1)/2 = 3, so the interval is
    # [y_(3), y_(99)] in 1-based order statistics.
    y = np.arange(1.0, 102.0)
    low, high, _, _ = interval_statistics(np.random.default_rng(0).permutation(y))
    assert (low, high) == (3.0, 99.0)


def test_draws_with_an_impossible_derived_porosity_are_dropped(write_card):
    # 28 ± 1 mg/cm2 in a 100 ± 10 um cathode of 3.05 g/cm3: a thin draw cannot hold the loading.
    path = write_card("""
        base = "paper-cell-2"
        [cathode]
        porosity = false
        theoretical_capacity = false
        loading = "28 ± 1 mg/cm2"
        active_fraction = 0.925
    """)
    result = propagate_mc(CellModel(load_card(path)), draws=50_000, seed=3)
    low, high = result["porosity"]["ci95"]
    assert 0 < low < high < 1
    assert 0 < result.dataset.attrs["rejected_draws"] < 50_000


def test_lognormal_draws_respect_an_upper_bound():
    from nassb.priors import fields as F
    from nassb.priors import parse_quantity

    q = parse_quantity({"value": 0.9, "sd": 0.1, "dist": "lognormal"}, F.FRACTION)
    draws = q.sample(np.random.default_rng(4), 100_000)
    assert draws.max() < 1.0
    assert draws.mean() == pytest.approx(q.moments()[0], abs=3e-3)
