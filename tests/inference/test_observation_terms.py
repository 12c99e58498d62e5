"""A kind of observation enters the Bayesian model through its term alone
(nassb.inference.observation_terms): one invented here and registered by the test reaches the
model's likelihood, the reported inputs and the prior-data check with no edit of bayes.py."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from nassb.inference import CellModel
from nassb.inference import observation_terms as terms
from nassb.inference.bayes import build
from nassb.inference.pymc_variables import safe
from nassb.priors import load_card


@dataclasses.dataclass(frozen=True)
class Gauge:
    """Invented: a layer's thickness read with a micrometer gauge (um), each reading with ``sd``."""

    quantity: str
    readings: np.ndarray
    sd: float
    where: str
    source: str = "SYNTHETIC"


class GaugeTerm(terms.ObservationTerm[Gauge]):
    def informs(self, obs: Gauge, model) -> list[str]:
        return [obs.quantity]

    def likelihood(self, obs: Gauge, context) -> tuple[str, ...]:
        import pymc as pm

        pm.Normal(f"{safe(obs.where)}_gauge", mu=context.x[obs.quantity], sigma=obs.sd, observed=obs.readings)
        return ()

    def conflicts(self, obs: Gauge, model, groups, nominal) -> list[str]:
        prior = model.inputs[obs.quantity]
        z = abs(float(np.mean(obs.readings)) - prior.value) / prior.sd
        return [f"{obs.where}: the gauge reads {z:.3g} prior sd off"] if z > 4 else []


@pytest.fixture
def gauge(monkeypatch):
    monkeypatch.setitem(terms.TERMS, Gauge, GaugeTerm())


def _model(readings) -> CellModel:
    card = load_card("paper-cell-1")  # cathode.thickness 200 ± 10 um
    obs = Gauge("cathode.thickness", np.asarray(readings, dtype=float), 2.0, "observations[0]")
    return CellModel(dataclasses.replace(card, observations=(obs,)))


def test_an_invented_kind_enters_the_model_through_its_term_alone(gauge):
    readings = [204.0, 206.0, 205.0]  # SYNTHETIC
    pmodel, report, hierarchical = build(_model(readings))
    observed = pmodel["observations_0_gauge"]
    assert np.allclose(pmodel.rvs_to_values[observed].data, readings)
    assert "cathode.thickness" in report and not hierarchical
    # The readings' density is N(readings | the thickness variable, 2 um), at any point.
    point = pmodel.initial_point(random_seed=1)
    point["cathode.thickness_interval__"] = point["cathode.thickness_interval__"] + 0.1  # off the prior's 200 um
    (value,) = pmodel.replace_rvs_by_values([pmodel["cathode.thickness"]])
    thickness = float(pmodel.compile_fn(value, inputs=pmodel.value_vars, on_unused_input="ignore")(point))
    assert 201.0 < thickness < 250.0
    logp = float(pmodel.compile_logp(vars=[observed])(point))
    assert logp == pytest.approx(stats.norm.logpdf(readings, thickness, 2.0).sum())
    assert terms.data_conflicts(_model(readings)) == []


def test_an_invented_kinds_conflict_check_is_its_terms(gauge):
    assert terms.data_conflicts(_model([300.0, 300.0])) == ["observations[0]: the gauge reads 10 prior sd off"]


def test_an_unregistered_kind_is_named():
    with pytest.raises(TypeError, match="no observation term is registered for Gauge"):
        build(_model([200.0]))
