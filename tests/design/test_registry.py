"""The closed sets are declared once: a risk model and a design variable invented here, each one
declaration plus its data, flow through scoring, the limits, a design search's JSON and a
proposal card without an edit of those modules.

SYNTHETIC: the invented risk (delamination of the cathode at high stack pressure) and its prior
are made up for the test; the invented variable is the card's cell temperature."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest

from nassb.design import DesignScorer, Limits, design_space
from nassb.design import defaults, variables
from nassb.design.campaign_cards import proposal_card
from nassb.design.run import run_design
from nassb.design.variables import DesignVariable
from nassb.inference.risk import RiskModel, registry
from nassb.inference.risk.registry import Limit, Risk
from nassb.inference.risk.scoring import parse_current, score_card
from nassb.priors import fields as F, load_card, risk as risk_priors
from nassb.priors.quantity import FieldSpec
from nassb.priors.tomlfile import read_toml
from nassb.priors.vocabulary import Term, term

PAPER = load_card("paper-cell-1")
THRESHOLD = "delamination.threshold"
PRIOR = ('\n[delamination.threshold]\nvalue = "3 MPa"\nsd = "1 MPa"\ndist = "lognormal"\n'
         'source = "SYNTHETIC: invented for a test"\nexperiment = "press cathodes until they delaminate"\n')


def _delamination(model, inputs: dict) -> dict:
    """P(delamination) = 1 - exp(-(p / p_0)^4): the invented form."""
    return {"P_delamination": -np.expm1(-(inputs["pressure"] / model.p(THRESHOLD)) ** 4)}


DELAMINATION = Risk("P_delamination", "delamination", ("P_delamination",), _delamination,
                    Limit("max_delamination", True, 0.05),
                    parameters={"threshold": FieldSpec("MPa", 0.0, math.inf, low_open=True, words="a pressure")},
                    terms=(Term("P_delamination", "1", "probability that the cathode delaminates",
                                kind="probability"),))
TEMPERATURE = DesignVariable("cell.temperature", F.TEMPERATURE, "298.15 K", "353.15 K")


@pytest.fixture
def invented(tmp_path, monkeypatch):
    """The shipped draws with the invented parameter's drawn from its prior in a temporary
    priors file (the shipped one plus its table); the risk and the variable registered meanwhile."""
    shipped = RiskModel.load()
    priors_file = tmp_path / "risk.toml"
    priors_file.write_text((resources.files("nassb.priors") / "data" / "risk.toml").read_text("utf-8") + PRIOR,
                           "utf-8")
    real_read = risk_priors._read

    def read(name, path):  # the priors this nassb reads are the temporary file
        if name == "risk.toml" and path is None:
            return read_toml(priors_file, what="risk priors file")[0], str(priors_file)
        return real_read(name, path)

    monkeypatch.setattr(risk_priors, "_read", read)
    registry.register(DELAMINATION)
    variables.register(TEMPERATURE)
    try:
        prior = risk_priors.load_risk_priors()[THRESHOLD].prior
        draws = {**shipped.draws, THRESHOLD: prior.sample(np.random.default_rng(1), shipped.size)}
        yield RiskModel(draws, observed_range=shipped.observed_range())
    finally:
        registry.unregister("P_delamination")
        variables.unregister("cell.temperature")


def test_the_built_in_declarations_keep_the_defaults_the_command_line_shows():
    assert {r.limit.setting: r.limit.default for r in registry.limited()} == {
        k: defaults.DEFAULTS[k] for k in ("max_fracture", "max_short", "max_drop", "min_retention")}
    assert registry.outputs() == ("P_fracture", "P_short", "R_cell", "R_separator", "R_interface", "R_cathode",
                                  "R_contact", "R_formation", "ohmic_drop", "retention")
    assert variables.names() == ("cathode.theoretical_capacity", "cathode.porosity", "separator.thickness",
                                 "anode.reservoir_thickness", "cell.pressure")
    with pytest.raises(ValueError):
        registry.unregister("P_short")
    with pytest.raises(ValueError):
        variables.register(variables.VARIABLES["cell.pressure"])


def test_an_invented_risk_and_variable_are_scored_and_limited(invented):
    space = design_space(PAPER)
    assert space.names()[-1] == "cell.temperature"
    temperature = space.variables[-1]
    assert (temperature.unit, temperature.low, temperature.high) == ("K", 298.15, 353.15)
    scorer = DesignScorer(PAPER, invented, cycles=100)
    design = scorer.design_of_card(PAPER)
    assert design["cell.temperature"] == pytest.approx(PAPER.cell["temperature"].value)
    cold, warm = (scorer.score({**design, "cell.temperature": t}) for t in (298.15, 353.15))
    # The separator and its interfaces conduct better warm: the temperature varies the cell as declared.
    assert warm["R_separator"].mean() < 0.5 * cold["R_separator"].mean()
    assert warm["R_interface"].mean() < 0.5 * cold["R_interface"].mean()
    assert warm["ohmic_drop"].mean() < cold["ohmic_drop"].mean()
    low, high = (scorer.score({**design, "cell.pressure": p}) for p in (0.1, 5.0))
    assert low["P_delamination"].mean() < 1e-3 < 0.5 < high["P_delamination"].mean()
    limits = Limits()
    assert limits.bound(DELAMINATION) == 0.05 and "P_delamination" in limits.UPPER
    assert limits.settings()["max_delamination"] == 0.05
    assert limits.violations(limits.judged(high))["P_delamination"] > 10
    assert "P_delamination" in limits.active(limits.judged(high))
    assert not limits.feasible(high).mean() > 0.5
    assert term("P_delamination").kind == "probability"
    # A card's own risks (nassb risk) carry it too, with the parameter that drives it.
    card = score_card(PAPER, current=parse_current("0.2 mA/cm^2"), cycles=100, risk=invented, conditions="fixed")
    summary = card.summary()["P_delamination"]
    assert summary["unit"] == "1" and 0 < summary["mean"] < 0.1
    assert card.most_informative["P_delamination"]["parameter"] == THRESHOLD
    assert card.most_informative["P_delamination"]["experiment"] == "press cathodes until they delaminate"


def test_a_search_varies_the_invented_variable_and_keeps_the_invented_limit(invented, tmp_path):
    result = run_design(PAPER, trials=12, storage=f"sqlite:///{tmp_path / 'study.db'}", posterior=invented,
                        top=3, seed=3)
    doc = result.to_json()
    assert doc["settings"]["limits"]["max_delamination"] == 0.05
    assert doc["proposals"]
    temperatures = set()
    for p in doc["proposals"]:
        assert p["design"]["cell.temperature"]["unit"] == "K"
        temperatures.add(round(p["design"]["cell.temperature"]["value"], 6))
        assert p["quantities"]["P_delamination"]["mean"] <= 0.05
        assert "P_delamination" in p["prior_sensitivity"]["quantities"]
    assert all(298.15 <= t <= 353.15 for t in temperatures)
    best = doc["proposals"][0]
    chosen = {k: v["value"] for k, v in best["design"].items() if k != "cathode.thickness"}
    scorer = DesignScorer(PAPER, invented, cycles=100)
    text = proposal_card("p1", chosen, scorer, best, campaign="c", base="card.toml", settings="s", energy="E_V_rate")
    cell = text[text.index("[cell]"):text.index("[anode]")]
    assert f'temperature = "{chosen["cell.temperature"]:.6g} K"' in cell
