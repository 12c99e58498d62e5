"""Bayesian propagation: the card's priors, the same cell equations as a PyTensor graph, and the
observations the card attaches, sampled with NUTS (PyMC) and judged by arviz diagnostics.

Each uncertain input becomes a PyMC variable with its card distribution, truncated at its
physical bounds wherever they cut its support (however little prior mass lies beyond: data may
push the posterior there); fixed inputs stay constants unless data observe them, when a weak
prior (normal, sd half the value, truncated the same way) replaces the fixed value.
:meth:`CellModel.evaluate` with ``xp=pytensor.tensor`` gives every output as a deterministic; a
derived porosity outside (0, 1) has zero density, as Monte Carlo drops such draws.

Specimens are not cells.  Data describe the specimens they were measured on, drawn from a
population; the cell is one more specimen of it unless an observation says it is the cell's own
(``cell_sample``).

replicates
    readings y_ij of specimen j: y_ij ~ N(theta_j, reading_sd), theta_j ~ N(mu, tau) truncated at
    the field's bounds; mu has the card's prior, tau (specimen-to-specimen spread) a half-normal
    prior with the card's sd (or ``specimen_spread``) as scale.  The cell's own value is theta of
    its specimen (``cell_sample``) or a new specimen, truncated the same way.
capacities
    discharge_k ~ N(C_delivered, s_d); discharge_k / charge_k ~ N(CE, s_ce), CE ~ U(0.5, 1.05):
    the delivered capacity is the level of the listed cycles, CE their mean efficiency.
arrhenius, and measurements of a conductivity, an interface resistance or separator.resistance
    a population of specimens on a log scale: ln X_j = ln X_pop + tau z_j, X_pop with the card's
    prior of the material's value, tau (a relative spread) half-normal with the card's relative
    uncertainty (or ``specimen_spread``) as scale.  Each series or measurement informs its own
    specimen (``specimen = NAME`` joins several); the activation energy is the material's,
    shared by its specimens.  The first specimen anchors the population (ln X_pop = ln X_1 -
    tau z_1, an exact change of variables without the funnel of a centred hierarchy); further
    specimens are centred on it.  Series use the robust Eq. 4 likelihood
    (nassb.inference.arrhenius); a measurement is value ~ N(X_j at its temperature, its sd).
    ``separator.resistance`` is d / sigma(T) of the specimen: the cell's thickness and
    conductivity for the cell's own, a thickness drawn from the card's prior otherwise.
other measurements
    value ~ N(quantity, its sd): a layer quantity measured is the cell's own.

A resistance measured in ohm is R / A with the card's area A (and its uncertainty); several
quantities of one fit are one multivariate normal with the fit's covariance.

Each kind of observation enters through its term (:mod:`.observation_terms`); the PyMC variables
of the priors and the specimens are made in :mod:`.pymc_variables`.

Prior-data conflict (:mod:`.conflicts`): data many prior standard deviations from the card's
prior, or a posterior far outside the prior's bulk (more than
:data:`~nassb.inference.conflicts.CONFLICT_SD` in the normal scale of the prior's probability),
fail the diagnostics gate with a sentence that names the observation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..priors import CardError
from ..priors.vocabulary import term
from .conflicts import posterior_conflicts
from .diagnostics import Diagnostics
from .model import CellModel
from .observation_terms import Context, built_inputs, data_conflicts, observed_inputs, specimen_groups, term_of
from .pymc_variables import prior_variable, specimen_variables
from .result import PropagationResult, add_covariance, summary_dataset
from .sampling import SamplerSettings, sample
from .specimens import group_of
from .statistics import summarise_named

HIERARCHICAL_TARGET_ACCEPT = 0.99
EXTRA_OUTPUTS = {"coulombic_efficiency": term("coulombic_efficiency").unit}


def build(model: CellModel):
    """The PyMC model of a card: priors, observations, and every output as a deterministic.

    Each observation enters through the term of its kind (:mod:`.observation_terms`).  Returns
    the model, the names of the quantities to report (outputs first, then the observed inputs,
    the populations and extras such as the Coulombic efficiency), and whether the model has
    latent specimens (a hierarchy that needs smaller steps).
    """
    import pymc as pm
    import pytensor.tensor as pt

    observed = observed_inputs(model)
    groups = specimen_groups(model)
    built = built_inputs(model)
    report = list(model.outputs)
    with pm.Model() as pmodel:
        x: dict = {}
        logs: dict[str, dict] = {}
        for name, prior in model.inputs.items():
            if name in built:
                x[name] = term_of(built[name]).variable(built[name], name, prior)
            elif name in groups:
                logs[name], x[name] = specimen_variables(groups[name], prior)
            else:
                x[name] = prior_variable(name, prior, name in observed)
        context = Context(model, x, logs, groups, _area(model))
        for obs in model.card.observations:
            report.extend(term_of(obs).likelihood(obs, context))
        outputs = model.evaluate(x, xp=pt)
        if model.derived_porosity:
            p = outputs["porosity"]
            pm.Potential("porosity_in_bounds", pt.switch(pt.and_(pt.gt(p, 0.0), pt.lt(p, 1.0)), 0.0, -np.inf))
        for name, expr in outputs.items():
            pm.Deterministic(name, pt.as_tensor_variable(expr))
        extra = [*observed, *(f"{q}_population" for q in groups), *(f"{q}_specimen_spread" for q in groups),
                 *(f"{q}_population_mean" for q in built), *(f"{q}_specimen_spread" for q in built)]
        if not isinstance(context.area, (float, int, type(None))):
            extra.append("cell.area")  # an uncertain area: its posterior is worth reading
        for name in extra:
            if name not in report and name in pmodel.named_vars:
                report.append(name)
    # Centred latent specimens (replicates read more than once, a group's second specimen on)
    # under a spread learned from few specimens make a funnel; a group's anchored first
    # specimen and the cells' new specimens do not.
    hierarchical = any(len(g.labels) > 1 for g in groups.values()) or any(
        name.endswith("_specimen") for name in pmodel.named_vars)
    return pmodel, report, hierarchical


def _area(model: CellModel):
    """The card's electrode area (cm^2) where a resistance in ohm needs it: a variable when it
    is uncertain, a float when fixed, None when nothing needs it."""
    needs = [part for obs in model.card.observations for part in term_of(obs).in_ohm(obs)]
    if not needs:
        return None
    area = model.card.cell.get("area")
    if area is None:
        raise CardError("a resistance in ohm needs [cell] area (cm^2) to become an area resistance",
                        file=model.card.origin, field=f"{needs[0].where}.value")
    return prior_variable("cell.area", area)


_DEFAULT_SETTINGS = SamplerSettings()


def propagate_bayes(model: CellModel, settings: SamplerSettings = _DEFAULT_SETTINGS) -> PropagationResult:
    """Posterior of every output given the card's priors and observations (NUTS).

    The result has the gum/mc summary (mean, sd, equal-tailed 95 % interval) plus the
    InferenceData (``result.idata``), the outputs' joint covariance and the
    :class:`Diagnostics`, which fail where the data conflict with the card's priors.  A card
    without observations gives its prior, sampled by NUTS; the diagnostics say so.
    """
    import json

    from .montecarlo import joint_covariance

    seed = settings.resolved_seed()
    conflicts = data_conflicts(model)
    pmodel, report, hierarchical = build(model)
    if hierarchical:
        # Latent specimens under a spread learned from few specimens make a funnel: smaller
        # steps (target acceptance 0.99) remove the divergences it causes with 0.9.
        settings = replace(settings, target_accept=max(settings.target_accept, HIERARCHICAL_TARGET_ACCEPT))
    idata = sample(pmodel, settings, seed)
    units = [_unit(model, n) for n in report]
    summaries = [summarise_named(n, np.asarray(idata.posterior[n]), unit) for n, unit in zip(report, units)]
    ds = summary_dataset(report, summaries,
                         attrs={"cell": model.card.name, "card": model.card.origin,
                                "card_sha256": model.card.sha256, "method": "bayes", "seed": seed,
                                "observations": len(model.card.observations),
                                "conventions": json.dumps(model.conventions())})
    heavy = {n for n, s in zip(report, summaries) if s["sd"] is None}
    draws = {n: np.asarray(idata.posterior[n]).ravel() for n in model.outputs}
    ds = add_covariance(ds, *joint_covariance(draws, heavy))
    free = [v.name for v in pmodel.free_RVs]
    diag = Diagnostics.from_idata(idata, free + report)
    groups, replicated, observed = specimen_groups(model), set(built_inputs(model)), observed_inputs(model)
    diag = diag.with_problems(*conflicts, *posterior_conflicts(model, idata.posterior, groups, replicated, observed))
    notes = [note for obs in model.card.observations for note in term_of(obs).notes(obs)]
    if not model.card.observations:
        notes.append("the card has no observations: this posterior is its prior, sampled by NUTS "
                     "(method 'mc' gives the same faster)")
    diag = diag.with_notes(*notes)
    return PropagationResult(ds, idata=idata, diagnostics=diag, model=model)


def _unit(model: CellModel, name: str) -> str:
    """Unit of a reported quantity: an output, an extra, an input, a population or a spread."""
    if name in model.outputs:
        return model.outputs[name]
    if name in EXTRA_OUTPUTS:
        return EXTRA_OUTPUTS[name]
    if name == "cell.area":
        return "cm^2"
    if name in model.inputs:
        return model.inputs[name].unit or "1"
    for suffix in ("_population_mean", "_population"):
        if name.endswith(suffix):
            return model.inputs[name[: -len(suffix)]].unit or "1"
    if name.endswith("_specimen_spread"):
        base = name[: -len("_specimen_spread")]
        # A material quantity's spread is relative (log scale); a layer quantity's is absolute.
        return "1" if group_of(base, model) is not None else (model.inputs[base].unit or "1")
    return "1"
