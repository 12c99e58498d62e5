"""The Bayesian DRT: the paper's SYNTHETIC two-arc spectrum gives two peaks at the true time
constants and suggests R0-p(R1,CPE1)-p(R2,CPE2), which fit eis accepts; one arc gives one peak;
two arcs too close are said to be unresolved; the regularisation is learned from the data; an
inductance is found; the result saves and loads back whole."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import nassb
from nassb.inference.eis import Spectrum, read_spectra
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.drt_result import fit_drt

from .test_eis_circuit import SYNTHETIC, truth_of

TWO_ARCS = "R0-p(R1,CPE1)-p(R2,CPE2)"


def _synthetic(circuit: str, truth: dict, noise: float = 0.005, seed: int = 1) -> Spectrum:
    """SYNTHETIC: a circuit's impedance, 1 MHz to 1 Hz at 10 points a decade, with Gaussian noise
    of sd ``noise`` |Z| on Z' and Z''."""
    f = np.logspace(6, 0, 61)
    z = Circuit(circuit).complex_impedance(truth, 2 * np.pi * f)
    rng = np.random.default_rng(seed)
    z = z + noise * np.abs(z) * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    return Spectrum(f, z, source="SYNTHETIC", name=f"synthetic-{seed}")


def _arc(k: int, r: float, tau: float, n: float) -> dict:
    """R_k and CPE_k of an arc p(R,CPE) with time constant tau = (R Q)^(1/n)."""
    return {f"R{k}": r, f"CPE{k}_Q": tau ** n / r, f"CPE{k}_n": n}


def test_the_paper_two_arc_spectrum_gives_two_peaks_at_the_true_time_constants():
    path = SYNTHETIC / "na-nzsp-na-30C.csv"
    truth = truth_of(read_spectra(path)[0])
    circuit = Circuit("R_A-p(R_B,CPE_B)-p(R_C,CPE_C)")
    taus = [circuit.time_constant(arc, truth) for arc in circuit.arcs]  # 637 ns and 79.6 us
    started = time.perf_counter()
    one = fit_drt(path).spectra[0]
    assert time.perf_counter() - started < 3.0
    assert one.circuit == TWO_ARCS
    arcs = [p for p in one.peaks if p.counted]
    assert [p.resolved for p in arcs] == [True, True]
    assert all(p.probability < 0.5 for p in one.peaks if not p.counted)  # ripples of the curve, if any
    for peak, tau in zip(arcs, taus):
        assert peak.probability >= 0.95
        median = float(np.median(peak.tau))
        assert tau / 1.5 <= median <= tau * 1.5, (median, tau)
        assert np.percentile(peak.tau, 2.5) <= tau <= np.percentile(peak.tau, 97.5)
    # resistances: each arc's within its band, and the series resistance
    for peak, name in zip(arcs, ("R_B", "R_C")):
        low, high = np.percentile(peak.resistance, [2.5, 97.5])
        assert low <= truth[name] <= high, (name, low, high)
    assert np.percentile(one.series_resistance, 2.5) <= truth["R_A"] <= np.percentile(one.series_resistance, 97.5)
    assert one.warnings == [] and not one.inductive
    # the band holds the median, and is zero-floored (projected draws)
    band = one.band()
    assert np.all(band[0] <= band[1] + 1e-12) and np.all(band[1] <= band[2] + 1e-12) and band[0].min() >= 0


def test_fit_eis_accepts_the_suggested_circuit_and_finds_the_same_time_constants():
    path = SYNTHETIC / "na-nzsp-na-30C.csv"
    one = fit_drt(path).spectra[0]
    fit = nassb.fit_eis(path, one.circuit, method="laplace", draws=250, kk=False, seed=1)
    circuit = Circuit(one.circuit)
    values = fit.fits[0].median_values()
    for arc, peak in zip(circuit.arcs, [p for p in one.peaks if p.counted]):
        assert circuit.time_constant(arc, values) == pytest.approx(float(np.median(peak.tau)), rel=0.5)


def test_one_arc_gives_one_peak():
    spectrum = _synthetic("R0-p(R1,CPE1)", {"R0": 5.0, **_arc(1, 10.0, 1e-4, 0.85)})
    one = fit_drt(spectrum).spectra[0]
    assert one.circuit == "R0-p(R1,CPE1)" and len([p for p in one.peaks if p.in_window]) == 1
    assert float(np.median(one.peaks[0].tau)) == pytest.approx(1e-4, rel=0.5)
    assert np.percentile(one.peaks[0].resistance, 2.5) <= 10.0 <= np.percentile(one.peaks[0].resistance, 97.5)


def test_two_arcs_too_close_are_said_to_be_unresolved():
    """tau 100 us and 500 us, n = 0.9: the DRT cannot separate them; it keeps one arc and says so."""
    truth = {"R0": 5.0, **_arc(1, 10.0, 1e-4, 0.9), **_arc(2, 10.0, 5e-4, 0.9)}
    one = fit_drt(_synthetic(TWO_ARCS, truth)).spectra[0]
    assert one.circuit == "R0-p(R1,CPE1)"
    merged = next(p for p in one.peaks if p.counted)
    assert not merged.resolved and (merged.hidden or merged.broad)
    assert any("too close" in w for w in one.warnings), one.warnings
    # and two decades apart they are resolved
    apart = {"R0": 5.0, **_arc(1, 10.0, 1e-5, 0.9), **_arc(2, 10.0, 1e-3, 0.9)}
    assert fit_drt(_synthetic(TWO_ARCS, apart)).spectra[0].circuit == TWO_ARCS


def test_the_regularisation_and_the_noise_are_learned():
    truth = {"R0": 5.0, **_arc(1, 10.0, 1e-5, 0.85), **_arc(2, 10.0, 1e-3, 0.85)}
    quiet = fit_drt(_synthetic(TWO_ARCS, truth, noise=0.001)).spectra[0].posterior
    loud = fit_drt(_synthetic(TWO_ARCS, truth, noise=0.03)).spectra[0].posterior
    assert np.median(quiet.noise) == pytest.approx(0.001, rel=0.3)
    assert np.median(loud.noise) == pytest.approx(0.03, rel=0.3)
    # more noise, a stronger prior relative to it: lambda rises by more than a decade
    assert np.median(loud.log10_lambda) > np.median(quiet.log10_lambda) + 1.0


def test_an_inductance_is_found_and_put_in_the_circuit():
    truth = {"L0": 2e-6, "R0": 5.0, **_arc(1, 10.0, 1e-5, 0.9), **_arc(2, 10.0, 1e-3, 0.85)}
    one = fit_drt(_synthetic("L0-" + TWO_ARCS, truth)).spectra[0]
    assert one.inductive and one.circuit == "L0-" + TWO_ARCS
    low, high = np.percentile(one.posterior.inductance, [2.5, 97.5])
    assert low <= 2e-6 <= high
    Circuit(one.circuit)  # fit eis's grammar


def test_an_arc_beyond_the_window_is_left_out_and_named():
    """The SYNTHETIC unresolved-arc file: its first arc peaks at 10 MHz, above the 1 MHz sweep."""
    one = fit_drt(SYNTHETIC / "nzsp-unresolved-arc.csv").spectra[0]
    assert one.circuit == "R0-p(R1,CPE1)"
    assert any("above the highest measured frequency" in w for w in one.warnings), one.warnings


def test_area_json_and_netcdf_round_trip(tmp_path):
    files = [SYNTHETIC / "na-nzsp-na-30C.csv", SYNTHETIC / "na-nzsp-na-40C.csv"]
    result = fit_drt(files, area="0.503 cm^2", seed=4)
    doc = result.to_json()
    assert isinstance(doc, list) and len(doc) == 2
    first = doc[0]
    assert first["unit"] == "ohm*cm^2" and first["area"] == 0.503 and first["circuit"] == TWO_ARCS
    assert first["quantities"]["peak1_R"]["unit"] == "ohm*cm^2" and first["temperature"] == pytest.approx(303.15)
    assert len(first["drt"]["tau"]) == len(first["drt"]["gamma"]) == len(first["drt"]["ci95_low"])
    assert set(result.summary()) >= {f"{files[0]}/R_inf", f"{files[1]}/peak2_tau"}
    path = result.to_netcdf(tmp_path / "drt.nc")
    back = nassb.load_result(path)
    assert type(back).__name__ == "DRTResult" and back.to_json() == doc
    assert "suggested circuit: R0-p(R1,CPE1)-p(R2,CPE2)" in repr(back)
    assert "DRTResult" in back._repr_html_()
    # the same spectrum, the same draws, alone or in a batch
    alone = fit_drt(files[1], area=0.503, seed=4).spectra[0]
    assert np.array_equal(alone.posterior.gamma, result.spectra[1].posterior.gamma)


def test_plot_returns_a_figure():
    from matplotlib.figure import Figure

    result = fit_drt(SYNTHETIC / "na-nzsp-na-30C.csv")
    assert isinstance(result.plot(), Figure)


@pytest.mark.parametrize("kwargs, field", [({"fmin": -1.0}, "fmin"), ({"draws": 10}, "draws"),
                                           ({"area": "0"}, "area"), ({"points_per_decade": 1}, "points_per_decade")])
def test_bad_options_are_named(kwargs, field):
    with pytest.raises(nassb.OptionError) as err:
        fit_drt(SYNTHETIC / "na-nzsp-na-30C.csv", **kwargs)
    assert err.value.field == field


def test_time_per_spectrum_is_well_under_a_second():
    spectrum = read_spectra(SYNTHETIC / "na-nzsp-na-30C.csv")[0]
    fit_drt(spectrum)  # imports
    started = time.perf_counter()
    for _ in range(3):
        fit_drt(spectrum)
    assert (time.perf_counter() - started) / 3 < 1.0
    assert math.isfinite(fit_drt(spectrum).spectra[0].seconds)


def test_the_paper_full_cell_gives_three_arcs_and_names_its_blocking_tail():
    """SYNTHETIC cell 2 after formation: arcs at 20 kHz, 1 kHz and 27 Hz, then CPE_CC in series."""
    one = fit_drt(SYNTHETIC / "cell-2-after-formation.csv").spectra[0]
    assert one.circuit == "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)"
    found = sorted(float(np.median(1 / (2 * math.pi * p.tau))) for p in one.peaks if p.counted)
    for f, truth in zip(found, (27.0, 1000.0, 20e3)):
        assert truth / 1.5 <= f <= truth * 1.5, (f, truth)
    assert any("below the lowest measured frequency" in w and "series element" in w for w in one.warnings)


def test_a_noise_free_spectrum_is_named_as_such():
    one = fit_drt(_synthetic("R0-p(R1,CPE1)", {"R0": 5.0, **_arc(1, 10.0, 1e-4, 0.85)}, noise=1e-7)).spectra[0]
    assert one.circuit == "R0-p(R1,CPE1)"
    assert any("nearly noise-free" in w for w in one.warnings), one.warnings
