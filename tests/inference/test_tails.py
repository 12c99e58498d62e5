"""Heavy tails: an sd is reported only where it exists; otherwise the median, the intervals and
the reason (issue: a resistance d / sigma with sigma normal has no variance)."""

from __future__ import annotations

import numpy as np
import pytest

from nassb.inference.propagate import propagate
from nassb.inference.statistics import heavy_tail, summarise, tail_shape


def _card(write_card, conductivity: str):
    return write_card(f'base = "paper-cell-1"\n[materials.nzsp-tape]\nconductivity = {conductivity}\n')


def test_the_tail_shape_tells_light_from_heavy_tails():
    rng = np.random.default_rng(0)
    assert tail_shape(rng.normal(0, 1, 20_000)) < 0.2
    assert tail_shape(rng.lognormal(0, 0.3, 20_000)) < 0.2
    sigma = rng.normal(0.5, 0.2, 20_000)
    assert tail_shape(50 / sigma[sigma > 0]) > 1.0        # 1/x near a density at 0: no mean either
    assert heavy_tail(rng.normal(0, 1, 20_000)) is None
    summary = summarise(50 / sigma[sigma > 0], "ohm*cm^2")
    assert summary["sd"] is None and summary["mean"] is None and "not exist" in summary["note"]
    assert summary["ci95"][0] < summary["median"] < summary["ci95"][1]


def test_a_normal_conductivity_reaching_zero_has_no_sd_on_any_seed(write_card):
    path = _card(write_card, '"0.5 ± 0.1 mS/cm"')
    runs = [propagate(path, "mc", draws=200_000, seed=seed)["R_separator"] for seed in (1, 2, 3)]
    for q in runs:
        assert q["sd"] is None and q["mean"] is None
        assert "nzsp-tape.conductivity" in q["note"] and "lognormal" in q["note"]
    # The intervals exist and agree from seed to seed (to about 2 %): they are what to quote.
    lows, highs = np.array([q["ci95"][0] for q in runs]), np.array([q["ci95"][1] for q in runs])
    assert np.ptp(lows) < 0.02 * lows.mean() and np.ptp(highs) < 0.03 * highs.mean()
    # R = d/sigma: 50 um / 0.5 mS/cm = 10 ohm cm^2 at the median.
    assert runs[0]["median"] == pytest.approx(10.0, rel=0.02)


def test_first_order_says_it_is_not_valid_there(write_card):
    result = propagate(_card(write_card, '"0.5 ± 0.1 mS/cm"'))
    assert any("not valid for R_separator" in w for w in result.warnings)


def test_a_lognormal_conductivity_keeps_a_stable_sd(write_card):
    path = _card(write_card, '{ value = "0.5 ± 0.1 mS/cm", dist = "lognormal" }')
    sds = [propagate(path, "mc", draws=200_000, seed=seed)["R_separator"]["sd"] for seed in (1, 2, 3)]
    assert all(sd is not None for sd in sds)
    assert np.ptp(sds) < 0.02 * np.mean(sds)
    # R = 0.1 d / sigma (um, mS/cm -> ohm cm^2), d ~ 50 ± 4 um, sigma lognormal with mean 0.5 and
    # s2 = ln(1 + 0.2^2): E[1/sigma] = 2 exp(s2), E[1/sigma^2] = 4 exp(3 s2).
    s2 = np.log1p(0.2 ** 2)
    variance = 0.01 * ((50 ** 2 + 4 ** 2) * 4 * np.exp(3 * s2) - 50 ** 2 * 4 * np.exp(2 * s2))
    assert np.mean(sds) == pytest.approx(np.sqrt(variance), rel=0.02)
    assert not propagate(path).warnings


def test_a_first_order_interval_below_a_physical_bound_is_named(write_card):
    path = write_card('base = "paper-cell-1"\n[materials.nzsp-tape]\ninterface_resistance = "1.5 ± 1.0 ohm*cm^2"\n')
    warnings = propagate(path).warnings
    assert any("R_interface" in w and "below 0" in w and "Monte Carlo" in w for w in warnings)
