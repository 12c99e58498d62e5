"""One decision: validated once, its defaults in one place, and one best cell for a card and a
decision whichever command asks (design, campaign propose, next-experiment)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nassb.design import extrapolation, ranking
from nassb.design.decision import DEFAULTS, KEYS, Decision, Limits, OperatingPoint
from nassb.design.optimum import best_design
from nassb.design.space import design_space
from nassb.design.study import constraints, make_scorer, objective_value
from nassb.inference.risk.predict import load_risk_model
from nassb.priors import OptionError, load_card
from nassb.reports.cli import build_parser


def test_the_defaults_are_the_decision_a_plain_make_gives():
    d = Decision.make()
    assert d.settings() == {**DEFAULTS, "c_rate": 0.1}  # no current: C/10
    assert d == Decision()
    assert d.words() == "q0.05 E_V, C/10 of each design's own capacity, 100 cycles, limits held under every reading"
    assert d.limits.hold == "every"


def test_the_command_line_shows_the_decision_defaults():
    args = build_parser().parse_args(["design"])
    assert {k: getattr(args, k) for k in KEYS} == {**DEFAULTS, "quantile": str(DEFAULTS["quantile"])}
    assert Decision.make(**{k: getattr(args, k) for k in KEYS}) == Decision()


@pytest.mark.parametrize(("settings", "field"), [
    ({"objective": "P_short"}, "objective"),
    ({"quantile": 1.5}, "quantile"),
    ({"max_short": -0.1}, "max_short"),
    ({"max_drop": float("nan")}, "max_drop"),
    ({"limit_confidence": 1.0}, "limit_confidence"),
    ({"cycles": 0}, "cycles"),
    ({"c_rate": 0.2, "current": 0.3}, "c_rate"),
    ({"c_rate": -1.0}, "c_rate"),
    ({"current": "0.3 ± 0.1 mA/cm^2"}, "current"),
    ({"trials": 20}, "trials"),
    ({"hold": "some"}, "hold"),
])
def test_a_bad_setting_names_itself(settings, field):
    with pytest.raises(OptionError) as err:
        Decision.make(**settings)
    assert err.value.field == field


def test_a_current_is_read_with_its_unit_and_replaces_the_c_rate():
    d = Decision.make(current="5 A/m^2")
    assert d.operating == OperatingPoint(None, pytest.approx(0.5), 100)
    assert "0.5 mA/cm^2" in d.words()


def test_a_decision_round_trips_through_its_settings_and_search_settings():
    d = Decision.make(objective="E_m", quantile="mean", limit_confidence=0.9, cycles=50, current=0.4,
                      within_data=True)
    assert Decision.make(**d.settings()) == d
    assert Decision.of_search(d.search_settings("sha", "fp")) == d
    assert Decision.of(d.settings(), cycles=60).cycles == 60 and Decision.of(d) is d


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1), st.floats(0.5, 0.99), st.floats(0, 1))
def test_limits_on_a_quantile_are_never_looser_than_on_the_mean(p_frac, p_short, confidence, spread):
    """Held with probability C >= 0.5, a limit judges the C quantile of an upper-limited risk:
    for draws symmetric about their mean that is never below the mean."""
    draws = np.linspace(-spread, spread, 101)
    values = {"P_fracture": p_frac + 0.1 * draws, "P_short": p_short + 0.1 * draws,
              "ohmic_drop": 0.05 + 0.01 * draws, "retention": 0.9 + 0.05 * draws}
    on_means, chance = Limits().judged(values), Limits(confidence=confidence).judged(values)
    for name in Limits.UPPER:
        assert chance[name] >= on_means[name] - 1e-12
    assert chance["retention"] <= on_means["retention"] + 1e-12


@pytest.fixture(scope="module")
def problem():
    card, risk = load_card("paper-cell-1"), load_risk_model(None)
    settings_ = Decision().search_settings(card.sha256, risk.fingerprint)
    scorer = make_scorer(card, risk, settings_)
    return scorer, design_space(card), settings_, extrapolation.calibrated_range(risk)


def test_the_optimum_is_deterministic_feasible_and_beats_every_sobol_point(problem):
    scorer, space, settings_, ranges = problem
    first = best_design(scorer, space, settings_, ranges)
    again = best_design(scorer, space, settings_, ranges)
    assert first == again and first.feasible
    values = scorer.score(first.design)
    assert all(v <= 1e-9 for v in constraints(values, settings_, ranges).values())
    assert first.value == pytest.approx(objective_value(values, "E_V", 0.05))
    # A random look of the same size never finds a better feasible cell.
    rng = np.random.default_rng(7)
    free = [v for v in space if not v.fixed]
    best_random = -math.inf
    for u in rng.random((150, len(free))):
        d = {v.name: (v.low * (v.high / v.low) ** x if v.log else v.low + x * (v.high - v.low))
             for v, x in zip(free, u, strict=True)}
        vals = scorer.score(d)
        if all(c <= 0 for c in constraints(vals, settings_, ranges).values()):
            best_random = max(best_random, objective_value(vals, "E_V", 0.05))
    assert first.value >= best_random


def test_an_impossible_decision_has_no_optimum(problem):
    scorer, space, settings_, ranges = problem
    strict = Decision.make(max_fracture=0.0, max_short=0.0).search_settings("sha", settings_.risk)
    found = best_design(scorer, space, strict, ranges, points=16, starts=1, budget=10)
    assert not found.feasible and math.isnan(found.value)


def _close(a: dict, b: dict, space) -> bool:
    """Each variable within 2 % of its range (of its log range where the search samples so)."""
    for v in space:
        if v.fixed:
            continue
        x, y = a[v.name], b[v.name]
        d = abs(math.log(x / y)) / math.log(v.high / v.low) if v.log else abs(x - y) / (v.high - v.low)
        if d > 0.02:
            return False
    return True


def test_design_campaign_and_next_experiment_name_the_same_first_cell(nassb, tmp_path, monkeypatch, problem):
    """paper-cell-1, default settings: nassb design, nassb campaign propose and nassb
    next-experiment name one first design (each variable within 2 % of its range)."""
    monkeypatch.setattr(ranking, "SEARCH_TRIALS", 6)
    space = problem[1]
    design = nassb("design", "--storage", f"sqlite:///{tmp_path / 'd.db'}", "--trials", "8", "--seed", "3", "--json")
    assert design.code == 0, design.err
    first_design = {k: v["value"] for k, v in design.json()["proposals"][0]["design"].items()}

    experiment = nassb("next-experiment", "--outcomes", "4", "--seed", "2", "--json")
    assert experiment.code == 0, experiment.err
    designs = experiment.json()["decision"]["designs"]
    assert designs[0]["name"] == "search-1"
    assert _close(first_design, designs[0]["design"], space), (first_design, designs[0]["design"])

    storage = f"sqlite:///{tmp_path / 'c.db'}"
    assert nassb("campaign", "start", "same", "--storage", storage).code == 0
    proposed = nassb("campaign", "propose", "same", "--storage", storage, "--batch", "2", "--trials", "12",
                     "--seed", "5", "--out", str(tmp_path / "cards"), "--json")
    assert proposed.code == 0, proposed.err
    first_campaign = {k: v["value"] for k, v in proposed.json()["proposals"][0]["design"].items()
                      if k in first_design}
    assert _close(first_design, first_campaign, space), (first_design, first_campaign)


def _worst_of(values: dict, settings_, index_sets) -> dict:
    limits = settings_.limits
    out: dict = {}
    for index in index_sets:
        under = values if index is None else {k: np.asarray(v)[index] for k, v in values.items()}
        for key, value in limits.violations(limits.judged(under)).items():
            out[key] = max(out.get(key, -math.inf), value)
    return out


def test_limits_held_under_every_reading_are_the_worst_reading_and_never_looser(problem):
    """Held under every reading, each limit's constraint is its worst over the file's reading and
    the reliable readings: never looser than under the file's reading alone; and the optimum under
    them is a safer cell (thicker tape, under the file's reading further from its limits)."""
    from dataclasses import replace

    from nassb.design.readings import held_indices

    scorer, space, every, ranges = problem
    file = replace(every, limits=replace(every.limits, hold="file"))
    combined = replace(every, limits=replace(every.limits, hold="combined"))
    sets = held_indices(every.risk, "every")
    assert sets[0] is None and len(sets) >= 6  # the file's reading, then the reliable ones
    for design in ({"cathode.theoretical_capacity": 1.4, "cathode.porosity": 0.2, "separator.thickness": 68.0,
                    "anode.reservoir_thickness": 34.0, "cell.pressure": 0.04},
                   scorer.design_of_card(load_card("paper-cell-1"))):
        values = scorer.score(design)
        held, alone = constraints(values, every, ranges), constraints(values, file, ranges)
        assert held == pytest.approx(_worst_of(values, every, sets))
        assert all(held[k] >= alone[k] - 1e-12 for k in alone)
        assert set(constraints(values, combined, ranges)) == set(alone)
    safe, bold = best_design(scorer, space, every, ranges), best_design(scorer, space, file, ranges)
    assert safe.feasible and bold.feasible and safe.value < bold.value
    assert safe.design["separator.thickness"] > bold.design["separator.thickness"]
    alone = constraints(scorer.score(safe.design), file, ranges)
    assert max(alone.values()) < -0.1  # under the file's reading alone it keeps a margin


def test_settings_that_name_no_risk_draws_cannot_hold_limits_under_readings(problem):
    """Held under the readings, the limits need the draws the designs are scored with: settings
    that name none are refused in one line naming ``risk``; under the file's reading they need none."""
    from dataclasses import replace

    from nassb.design.study import SearchSettings

    scorer = problem[0]
    values = scorer.score(scorer.design_of_card(load_card("paper-cell-1")))
    with pytest.raises(OptionError) as err:
        constraints(values, SearchSettings("sha"))
    assert err.value.field == "risk"
    file = SearchSettings("sha", limits=replace(Limits(), hold="file"))
    assert set(constraints(values, file)) == {"P_fracture", "P_short", "ohmic_drop", "retention"}


def test_a_campaign_started_before_readings_keeps_its_limits_under_the_file_reading(tmp_path):
    """A campaign stored before the readings held its limits under the file's reading: it opens so."""
    from nassb.design import campaign_store
    from nassb.design.campaign import Campaign

    storage = f"sqlite:///{tmp_path / 'old.db'}"
    started = Campaign.start("old", storage=storage)
    assert started.decision.limits.hold == "every"
    settings = dict(started._settings)
    settings.pop("hold")
    campaign_store.mark_campaign(started.study, "paper-cell-1", started.card.sha256, settings)  # as stored before
    assert Campaign.open("old", storage).decision.limits.hold == "file"


def test_a_study_made_before_readings_keeps_its_settings_and_fingerprint():
    """A study stored before the limits were held under the readings held them under the file's
    reading: it loads so, with the fingerprint it was made with."""
    from nassb.design.study import SearchSettings, settings_from_dict, settings_to_dict

    file = Decision.make(hold="file").search_settings("sha", "fp")
    stored = settings_to_dict(file)
    del stored["limits"]["hold"]
    assert settings_from_dict(stored) == file
    legacy = SearchSettings("sha", risk="fp", limits=Limits.make(0.1, 0.2, 0.1, 0.8, None, "file"))
    assert legacy.fingerprint() == file.fingerprint() != Decision().search_settings("sha", "fp").fingerprint()
