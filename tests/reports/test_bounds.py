"""Inputs have bounds: a device or a huge file given as a card, a TOML file, a table or a
spectrum is refused in one line naming it (only the limit is read); a spectrum of 10^5 points is
fitted on MAX_FIT_POINTS of them in seconds, saying so; a spectrum with fewer points than the
circuit's parameters is refused before any fitting."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from nassb.inference.eis.spectrum import MAX_FIT_POINTS, Spectrum, thinned
from nassb.priors.reading import CARD_BYTES, TABLE_BYTES

from ..conftest import MINIMAL_CARD


def _refused(run, name: str) -> None:
    assert run.code == 2, run.err
    assert run.err.startswith(f"nassb: {name}: larger than ") and run.err.count("\n") == 1, run.err
    assert "is this the right file?" in run.err


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_given_as_a_card_is_refused_naming_it(nassb, device):
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    started = time.monotonic()
    for args in (("propagate", device), ("propagate", device, "--method", "mc"), ("risk", device),
                 ("risk-calibrate", "--observations", device, "--out", "unused.nc")):
        _refused(nassb(*args), device)
    _refused(nassb("fit", "arrhenius", device), device)
    assert time.monotonic() - started < 30


def test_a_huge_card_and_table_are_refused_before_they_are_parsed(nassb, tmp_path):
    card = tmp_path / "huge.toml"
    card.write_text(MINIMAL_CARD + "# padding\n" * (CARD_BYTES // 10), encoding="utf-8")
    _refused(nassb("propagate", str(card)), str(card))
    table = tmp_path / "huge.csv"
    with open(table, "w", encoding="utf-8") as handle:
        handle.write("temperature [degC],conductivity [mS/cm]\n")
        handle.truncate(TABLE_BYTES + 1)  # sparse: the size without the disk
    _refused(nassb("fit", "arrhenius", str(table)), str(table))


def test_a_spectrum_file_that_is_a_device_is_refused(nassb, tmp_path):
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    run = nassb("spectra", str(link))
    _refused(run, str(link))


def test_an_arrhenius_series_of_more_than_ten_thousand_points_is_refused_in_one_line(nassb, tmp_path):
    path = tmp_path / "many.csv"
    t = np.linspace(20, 80, 20_001)
    np.savetxt(path, np.column_stack([t, np.exp(t / 30)]), delimiter=",", fmt="%.6g", comments="",
               header="temperature [degC],conductivity [mS/cm]")
    run = nassb("fit", "arrhenius", str(path))
    assert run.code == 2 and "20001 points; an Arrhenius series is fitted on at most 10000" in run.err


def _arc(frequency: np.ndarray) -> np.ndarray:
    w = 2 * np.pi * frequency
    return 10 + 100 / (1 + 1j * w * 100 * 1e-6) + 1000 / (1 + 1j * w * 1e-3)


def test_thinning_keeps_a_log_uniform_spread_in_the_spectrums_own_order():
    f = np.concatenate([np.logspace(6, 2, 90_000), np.logspace(2, -2, 10_000)])  # dense at high frequency
    spectrum = Spectrum(f, _arc(f), "SYNTHETIC", "dense")
    thin = thinned(spectrum, 500)
    assert 450 <= len(thin) <= 500
    assert np.all(np.diff(thin.frequency) < 0)  # the sweep's order is kept
    steps = np.diff(np.log10(thin.frequency[::-1]))
    assert thin.frequency.max() == 1e6 and thin.frequency.min() == pytest.approx(1e-2)
    assert steps.max() < 3 * 8 / 500  # no decade left empty: evenly spread, not 90 % above 100 Hz
    assert thinned(thin, 500) is thin


def test_a_spectrum_of_a_hundred_thousand_points_is_fitted_in_seconds(nassb, tmp_path):
    f = np.logspace(6, -2, 100_000)
    z = _arc(f)
    path = tmp_path / "dense.csv"
    np.savetxt(path, np.column_stack([f, z.real, z.imag]), delimiter=",", fmt="%.10g", comments="",
               header="frequency [Hz],Z_real [ohm],Z_imag [ohm]")
    started = time.monotonic()
    run = nassb("fit", "eis", str(path), "--circuit", "R0-p(R1,C1)-p(R2,C2)", "--seed", "1", "--json")
    assert run.code == 0, run.err
    assert time.monotonic() - started < 120
    fitted = re.search(r"dense.csv: 100000 points: fitted on (\d+) of them, spread evenly in log frequency", run.err)
    assert fitted and 0.9 * MAX_FIT_POINTS <= int(fitted.group(1)) <= MAX_FIT_POINTS, run.err
    assert run.json()["parameters"]["R2"]["mean"] == pytest.approx(1000, rel=1e-3)


def test_fewer_points_than_parameters_is_refused_before_any_fitting(nassb, tmp_path, monkeypatch):
    from nassb.inference.eis import api

    monkeypatch.setattr(api, "fit_spectra", lambda *a, **k: pytest.fail("fitted"))
    f = np.logspace(5, 0, 6)
    z = _arc(f)
    path = tmp_path / "six.csv"
    np.savetxt(path, np.column_stack([f, z.real, z.imag]), delimiter=",", comments="", header="f,Zre,Zim")
    run = nassb("fit", "eis", str(path), "--circuit", "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)")
    assert run.code == 2 and run.err.count("\n") == 1
    assert "6 points cannot determine the circuit's 10 parameters" in run.err and str(path) in run.err
