"""``next_experiment``: rank candidate experiments by their expected value of sample information
for the design decision (:mod:`nassb.design.voi`), and per unit cost.

The decision: among candidate designs (the top distinct designs of a short in-memory design
search, a campaign's own candidates and the paper's cells), build the one whose objective (a
quantile of E_V at the cycling current, as ``run_design`` scores it) is best among those whose
risks meet the limits (on their means, or with a posterior probability: ``limit_confidence``).
An experiment is worth what, on average over its simulated outcomes, seeing the outcome adds to
the value of that choice; the posterior after an outcome is the calibrated draws reweighted by
its likelihood (no re-sampling).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..inference.result import Result
from ..priors import CardError, CellCard, OptionError, load_card
from . import extrapolation
from .decision import Decision
from .experiment_files import build_experiment, load_experiments
from .experiments import COST_UNITS, BiaxialStrength, BuildAndCycle, CriticalCurrent, Profilometry
from .variables import VARIABLES
from .voi import THIN_ESS, DecisionProblem, ExperimentValue, value_of_information

SEARCH_TRIALS = 60        # trials of the in-memory design search that proposes candidates
SEARCH_TOP = 4            # distinct designs it contributes
PAPER_CELLS = ("paper-cell-1", "paper-cell-2")
THIN_SHARE = 0.1          # more than this share of thin outcomes (voi.THIN_ESS) is flagged
ZERO_SE = 2.0             # an EVSI within this many standard errors of zero cannot tell from zero
# Settings of run_design that do not change the decision (storage, reporting, the search's extent).
IGNORED_SETTINGS = ("storage", "study", "top", "progress", "prior_widening", "posterior", "seed", "pareto",
                    "refine", "trials")
UNIT_OF = {"E_V": "Wh/l", "E_m": "Wh/kg"}


class ExperimentRanking(Result):
    """Candidate experiments ranked by their expected value of sample information (EVSI).

    Attributes
    ----------
    values : list of ExperimentValue
        Best first (by EVSI).
    experiments : list of dict
        ``kind``, ``cells``, ``days`` of each, in the order of ``values``.
    designs : list of dict
        The candidate designs: ``name``, ``design`` (card path -> value), ``value`` (the
        objective today, None where a limit fails).
    chosen : str or None
        The design chosen today (None: no candidate meets the limits).
    unit : str
        The objective's unit (EVSI is in it): Wh/l (E_V) or Wh/kg (E_m); kept as ``value_unit``
        (``unit(name)`` is the Result protocol's unit of a quantity).
    settings : dict
        Objective, quantile, limits, cycling, outcomes, seed, draws, cost unit.
    """

    kind = "next-experiment"

    def __init__(self, values: list[ExperimentValue], experiments: list[dict], designs: list[dict],
                 chosen: str | None, unit: str, settings: dict, card: str = ""):
        self.values, self.experiments, self.designs = values, experiments, designs
        self.chosen, self.value_unit, self.settings, self.card = chosen, unit, settings, card
        self.idata, self.diagnostics = None, None

    @property
    def title(self) -> str:
        return f"next experiment for {self.card}" if self.card else "next experiment"

    def summary(self) -> dict[str, dict]:
        """Each experiment's EVSI as ``{"mean", "sd", "unit", "ci95"}`` (sd: its Monte Carlo error)."""
        out = {}
        for v in self.values:
            se = v.evsi_se if math.isfinite(v.evsi_se) else 0.0
            out[v.name] = {"mean": v.evsi, "sd": se, "unit": self.value_unit,
                           "ci95": [v.evsi - 1.96 * se, v.evsi + 1.96 * se]}
        return out

    @property
    def by_cost(self) -> list[str]:
        """Experiment names, best EVSI per unit cost first."""
        return [v.name for v in sorted(self.values, key=lambda v: -v.evsi_per_cost)]

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.chosen is None:
            out.append("no candidate design meets the limits under today's posterior: each EVSI is the value of "
                       "finding one that does (building nothing counts as 0)")
        outcomes = self.settings.get("outcomes", 0)
        for v in self.values:
            if v.thin_share > THIN_SHARE:
                out.append(f"{v.name}: thin reweighting in {v.thin_share:.0%} of the outcomes (fewer than "
                           f"{THIN_ESS:.0f} effective of {self.settings.get('draws', '?')} draws, down to "
                           f"{v.min_ess:.0f}): its EVSI and shrinkage rest on few draws there; a longer "
                           "calibration (more draws) firms them")
            if v.evsi_se == 0 and v.evsi == 0:
                out.append(f"{v.name}: no simulated outcome moved the decision (EVSI 0 at {outcomes} outcomes)")
            elif math.isfinite(v.evsi_se) and abs(v.evsi) <= ZERO_SE * v.evsi_se:
                out.append(f"{v.name}: EVSI {v.evsi:.3g} ± {v.evsi_se:.2g} {self.value_unit} cannot tell "
                           f"from zero at {outcomes} outcomes")
        return out

    def to_json(self) -> dict:
        experiments = []
        for v, meta in zip(self.values, self.experiments, strict=True):
            entry = v.to_json()
            entry["evsi_per_cost"] = v.evsi_per_cost if math.isfinite(v.evsi_per_cost) else None
            experiments.append({**entry, **meta})
        return {"card": self.card, "unit": self.value_unit, "settings": self.settings,
                "decision": {"chosen": self.chosen, "designs": self.designs},
                "experiments": experiments, "by_cost": self.by_cost, "warnings": self.warnings}

    def to_dataframe(self):
        """The experiments, best EVSI first: ``experiment``, ``kind``, ``cells``, ``days``,
        ``EVSI [unit]`` with its Monte Carlo error, the cost, EVSI per cost, shrinkage and switch rate."""
        from ..inference.frames import frame, unit_label

        evsi, se = unit_label("EVSI", self.value_unit), unit_label("EVSI_se", self.value_unit)
        rows = []
        for v, meta in zip(self.values, self.experiments, strict=True):
            rows.append({"experiment": v.name, "kind": meta.get("kind"), "cells": meta.get("cells"),
                         "days": meta.get("days"), evsi: v.evsi, se: v.evsi_se, "cost": v.cost,
                         "cost_unit": meta.get("cost_unit", ""), "EVSI_per_cost": v.evsi_per_cost,
                         "interval_shrinkage": v.interval_shrinkage, "switch_rate": v.switch_rate,
                         "chosen_today": self.chosen})
        return frame(rows, {evsi: self.value_unit, se: self.value_unit}, index="experiment", kind=self.kind,
                     title=self.title)

    @classmethod
    def _from_netcdf(cls, document, groups, idata):
        keys = ("name", "description", "evsi", "evsi_se", "cost", "interval_shrinkage", "switch_rate", "min_ess")
        values = [ExperimentValue(**{k: e[k] for k in keys}, thin_share=float(e.get("thin_share", 0.0)))
                  for e in document["experiments"]]
        meta = [{k: e[k] for k in ("kind", "cells", "days", "cost_unit")} for e in document["experiments"]]
        return cls(values, meta, document["decision"]["designs"], document["decision"]["chosen"], document["unit"],
                   document["settings"], document.get("card", ""))

    def plot(self, **kwargs):
        """Each experiment's EVSI with its 95 % Monte Carlo interval, best first."""
        from ..priors.display.intervals import interval_chart

        if not self.values:
            raise NotImplementedError("a ranking of no experiments has no figure")
        rows = list(self.summary().items())
        return interval_chart({"EVSI": rows}, {"EVSI": self.value_unit}, words=True, title=self.title,
                              as_figure=True, **kwargs)


# -- the decision ----------------------------------------------------------------------------

def _search_settings(card: CellCard, risk, decision: Decision):
    """SearchSettings and scorer of a decision, as run_design makes them."""
    from .study import make_scorer

    settings = decision.search_settings(card.sha256, risk.fingerprint)
    return settings, make_scorer(card, risk, settings)


def search_designs(card: CellCard, scorer, settings, risk, *, trials: int = SEARCH_TRIALS, top: int = SEARCH_TOP,
                   sampler: str = "tpe", seed: int = 0) -> list[dict]:
    """The decision's deterministic optimum (``search-1``, :func:`nassb.design.optimum.best_design`)
    and the next distinct feasible designs of a short in-memory design search (Optuna, the
    objective and constraints of run_design, its local refinement), as ``{"name", "design"}``."""
    import optuna

    from .optimum import best_design
    from .refine import refine
    from .run import refine_budget, search_space
    from .study import _quiet_optuna, make_objective, make_sampler, proposals

    _quiet_optuna()
    ranges = extrapolation.calibrated_range(risk)
    space = search_space(card, scorer, settings, ranges)
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler, seed, False))
    optimum = best_design(scorer, space, settings, ranges)
    if optimum.design is not None:
        study.enqueue_trial(optimum.design)
    objective = make_objective(space, scorer, settings, ranges)
    local = refine_budget(None, trials, None)
    study.optimize(objective, n_trials=max(trials - local, 1))
    if local:
        ran = refine(study, space, objective, local)
        if ran < local:
            study.optimize(objective, n_trials=local - ran)
    names = space.names()
    found = [{k: p["design"][k]["value"] for k in names}
             for p in proposals(study, space, scorer, settings, top=top, ranges=ranges)]
    if optimum.design is not None:  # the optimum first, the search's others after it
        found = [optimum.design, *[d for d in found if space.distance(d, optimum.design) >= 0.1][:top - 1]]
    return [{"name": f"search-{i + 1}", "design": d} for i, d in enumerate(found)]


def _checked_candidates(candidates, where: str = "candidates") -> list[dict]:
    if not isinstance(candidates, (list, tuple)):
        raise OptionError("expected a list of {'name', 'design': {card path: value}}", field=where)
    out, seen = [], set()
    for i, c in enumerate(candidates):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get("design"), dict):
            raise OptionError(f"entry {i + 1}: expected {{'name', 'design': {{card path: value}}}}", field=where)
        # the cathode thickness follows from the capacity and the porosity (the scorer's layers)
        design = {k: v for k, v in c["design"].items() if k != "cathode.thickness"}
        missing = [k for k in VARIABLES if k not in design]
        extra = sorted(set(design) - set(VARIABLES))
        if missing or extra:
            problem = f"lacks {missing[0]}" if missing else f"has an unknown variable {extra[0]!r}"
            raise OptionError(f"design {c['name']!r} {problem} (variables: {', '.join(VARIABLES)})", field=where)
        values = {}
        for k, declared in VARIABLES.items():
            v = design[k]
            v = v["value"] if isinstance(v, dict) and "value" in v else v
            zero = declared.zero_allowed
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or not ((v >= 0) if zero else (v > 0)):
                sign = "non-negative" if zero else "positive"
                raise OptionError(f"design {c['name']!r}: {k} must be a {sign} number, got {v!r}", field=where)
            values[k] = float(v)
        if c["name"] in seen:
            continue
        seen.add(c["name"])
        out.append({"name": c["name"], "design": values})
    if not out:
        raise OptionError("no candidate designs", field=where)
    return out


def _score_candidates(designs: list[dict], card: CellCard, scorer, settings, risk) -> list[dict]:
    """Per-draw values of every candidate: a paper cell with its own card's scorer (as the design
    study's baselines), the others with the card's."""
    from .study import make_scorer

    out = []
    for d in designs:
        own = d.get("scorer") or (make_scorer(load_card(d["card"]), risk, settings) if d.get("card") else scorer)
        out.append({**d, "values": own.score(d["design"]), "scorer": own})
    return out


def _paper_cells(scorer, settings, risk) -> list[dict]:
    from .study import make_scorer

    out = []
    for name in PAPER_CELLS:
        try:
            card = load_card(name)
            own = make_scorer(card, risk, settings)
            out.append({"name": name, "design": own.design_of_card(card), "card": name, "scorer": own})
        except CardError:  # a paper cell that the card's materials cannot score
            continue
    return out


def decision_problem(scored: list[dict], settings) -> DecisionProblem:
    """The candidates' objective and risks per draw, with the limits of ``settings``, held under
    the readings the decision holds them under."""
    from .study import QUANTITY_OF

    quantity = QUANTITY_OF[settings.objective]
    from ..inference.risk.registry import limited

    from .readings import held_indices

    limits = {r.name: ("max" if r.limit.upper else "min", settings.limits.bound(r)) for r in limited() if r.limit}
    # the limits held as the decision holds them: under every reading by default, as nassb design's
    held = tuple(held_indices(settings.risk, settings.limits.hold))
    return DecisionProblem([d["name"] for d in scored], np.vstack([d["values"][quantity] for d in scored]),
                           {risk: np.vstack([d["values"][risk] for d in scored]) for risk in limits},
                           limits, quantile=settings.quantile, confidence=settings.limits.confidence, held=held)


def default_experiments(scored: list[dict], problem: DecisionProblem, cycles: int) -> list:
    """Ten candidate experiments from what the risk priors name: biaxial strength (10 and 30
    tapes), CCD of symmetric cells at the reference, at 0.1 and 5 MPa and at the condition of the
    design chosen today (else with 10 um sodium), profilometry of tapes and of selected shards,
    and building the two best designs of today (4 cells each, cycled ``cycles``; feasible designs
    first, then by their mean objective)."""
    w0 = np.full(problem.objective.shape[1], 1.0 / problem.objective.shape[1])
    values = problem.values(w0)
    # feasible designs by their value today, then the others by their mean objective
    feasible = [int(i) for i in np.argsort(-values) if np.isfinite(values[i])]
    order = feasible + [int(i) for i in np.argsort(-problem.objective.mean(axis=1)) if int(i) not in feasible]
    chosen = scored[order[0]]["design"]
    own = CriticalCurrent(cells=5, pressure=chosen["cell.pressure"], reservoir=chosen["anode.reservoir_thickness"],
                          thickness=chosen["separator.thickness"],
                          label=f"CCD, 5 symmetric cells at the condition of {scored[order[0]]['name']}")
    out: list = [BiaxialStrength(tapes=10, thickness=50.0), BiaxialStrength(tapes=30, thickness=50.0),
                 CriticalCurrent(cells=5), CriticalCurrent(cells=5, pressure=0.1),
                 CriticalCurrent(cells=5, pressure=5.0), own,
                 Profilometry(tapes=10, thicknesses=(50.0, 110.0)),
                 Profilometry(tapes=10, thicknesses=(110.0,), selected=True)]
    for k in order[:2]:
        d = scored[k]
        out.append(BuildAndCycle.of(d["scorer"], d["design"], cells=4, cycles=cycles,
                                    label=f"build 4 x {d['name']}, cycle {cycles}"))
    return out


def next_experiment(*, posterior=None, campaign=None, card: CellCard | str | Path = "paper-cell-1", candidates=None,
                    experiments=None, outcomes: int = 200, seed: int = 0, progress: bool = False,
                    cost: str = "days", decision: Decision | dict | None = None, **settings) -> ExperimentRanking:
    """Rank candidate experiments by their expected value of sample information for the design decision.

    Parameters
    ----------
    posterior : optional
        Calibrated risk draws (a file, a CalibrationResult or a RiskModel; default the shipped
        calibration).  Not with ``campaign``.
    campaign : optional
        An object with ``risk_model()``, ``candidate_designs()`` (``[{"name", "design"}]``),
        ``design_settings()`` (run_design keyword settings) and ``card``: its posterior, its
        candidates (before the search's and the paper's) and its settings (``settings`` given
        here override them).
    card : CellCard, str or Path
        The card the designs share (default paper-cell-1; a campaign's own otherwise).
    candidates : list of dict, optional
        The candidate designs, ``{"name", "design": {card path: value}}`` with the five design
        variables (capacity mAh/cm^2, porosity, separator and reservoir thickness um, pressure
        MPa); replaces the search's, the campaign's and the paper's.
    experiments : path or list, optional
        None: the ten default experiments (:func:`default_experiments`); a user file
        (:func:`nassb.design.experiment_files.load_experiments`): the defaults and the file's; a list
        of experiment objects (:class:`nassb.design.voi.Experiment`): exactly those.
    outcomes : int
        Simulated outcomes per experiment (the Monte Carlo error of EVSI falls as 1/sqrt).
    seed : int
        Seed of the outcomes and of the in-memory search.
    progress : bool
        A progress bar over the experiments.
    cost : {"days", "cells"}
        The unit of the ranking per cost.
    decision : Decision or dict, optional
        The design decision (:class:`nassb.design.decision.Decision`); default a campaign's own,
        else the defaults.  Keyword ``settings`` make one or override its own.
    **settings
        run_design's decision settings: ``objective``, ``quantile``, ``max_fracture``,
        ``max_short``, ``max_drop``, ``min_retention``, ``cycles``, ``c_rate``, ``current``,
        ``within_data``, ``sampler``; ``search_trials`` sets the in-memory search (default 60).

    Returns
    -------
    ExperimentRanking
        EVSI in the objective's unit (Wh/l for E_V), its Monte Carlo error, the cost, EVSI per
        cost, the expected shrinkage of each risk's 95 % interval at today's design, best first.
    """
    search_trials = _checked_options(posterior, campaign, outcomes, seed, cost, settings)
    risk, card, settings, campaign_designs = _source(posterior, campaign, card, decision, settings)
    # A user file is read and checked before any work.
    specs = load_experiments(experiments) if isinstance(experiments, (str, Path)) else []
    if experiments is not None and not isinstance(experiments, (str, Path)) and not list(experiments):
        raise OptionError("no experiments to rank", field="experiments")
    from .study import SAMPLERS

    sampler = settings.pop("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise OptionError(f"'{sampler}' is not a sampler; must be one of {', '.join(SAMPLERS)}", field="sampler")
    chosen_decision = Decision.of(decision, **settings)
    card = card if isinstance(card, CellCard) else load_card(card)
    search_settings, scorer = _search_settings(card, risk, chosen_decision)
    if candidates is not None:
        designs = _checked_candidates(candidates)
    else:
        found = search_designs(card, scorer, search_settings, risk, trials=search_trials, sampler=sampler,
                               seed=seed)
        designs = campaign_designs + found + _paper_cells(scorer, search_settings, risk)
    scored = _score_candidates(designs, card, scorer, search_settings, risk)
    problem = decision_problem(scored, search_settings)
    chosen_list = _experiment_list(experiments, specs, scored, problem, search_settings.cycles, cost)
    values = _evaluate(problem, chosen_list, risk.draws, outcomes, seed, progress)
    return _ranking(values, chosen_list, scored, problem, search_settings, risk, card,
                    {"outcomes": outcomes, "seed": seed, "cost": cost})


def _source(posterior, campaign, card, decision, settings: dict):
    """The posterior, the card, the decision settings and the campaign's candidate designs: a
    campaign's own (``settings`` given override its settings, a ``decision`` replaces them), else
    the posterior given (default the shipped calibration) and the settings given."""
    from ..inference.risk.predict import load_risk_model

    campaign_designs: list[dict] = []
    if campaign is not None:
        risk = campaign.risk_model()
        card = campaign.card
        base = {k: v for k, v in dict(campaign.design_settings()).items() if k not in IGNORED_SETTINGS}
        if decision is not None:  # the caller's decision replaces the campaign's settings
            base = {}
        settings = {**base, **settings}
        offered = list(campaign.candidate_designs() or [])
        campaign_designs = _checked_candidates(offered, "campaign") if offered else []
    else:
        risk = load_risk_model(posterior)
    for k in IGNORED_SETTINGS:
        settings.pop(k, None)
    return risk, card, settings, campaign_designs


def _checked_options(posterior, campaign, outcomes, seed, cost, settings: dict) -> int:
    """The in-memory search's trials (taken out of ``settings``); an OptionError naming a bad option."""
    if posterior is not None and campaign is not None:
        raise OptionError("give a posterior or a campaign, not both (a campaign has its own)", field="posterior")
    for name, value, minimum in (("outcomes", outcomes, 2), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise OptionError(f"must be a whole number >= {minimum}, got {value!r}", field=name)
    if cost not in COST_UNITS:
        raise OptionError(f"must be one of {', '.join(COST_UNITS)}, got {cost!r}", field="cost")
    search_trials = settings.pop("search_trials", SEARCH_TRIALS)
    if isinstance(search_trials, bool) or not isinstance(search_trials, int) or search_trials < 1:
        raise OptionError(f"must be a whole number >= 1, got {search_trials!r}", field="search_trials")
    return search_trials


def _experiment_list(experiments, specs: list, scored: list[dict], problem, cycles: int, cost: str) -> list:
    """The experiments to rank, costed in ``cost``: the defaults and a user file's, or those given;
    two of one name are an OptionError."""
    if experiments is None or isinstance(experiments, (str, Path)):
        chosen_list = default_experiments(scored, problem, cycles)
        chosen_list += [build_experiment(spec, scored, default_cycles=cycles) for spec in specs]
    else:
        chosen_list = list(experiments)
    chosen_list = [e.costed(cost) if hasattr(e, "costed") else e for e in chosen_list]
    names = [e.name for e in chosen_list]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise OptionError(f"two experiments are named {dup!r}; give one a name of its own", field="experiments")
    return chosen_list


def _ranking(values: list, chosen_list: list, scored: list[dict], problem, search_settings, risk, card: CellCard,
             run: dict) -> ExperimentRanking:
    """The ranking, best EVSI first, with the decision today and the settings it was made under
    (``run``: the outcomes, the seed and the cost unit)."""
    outcomes, seed, cost = run["outcomes"], run["seed"], run["cost"]
    order = sorted(range(len(values)), key=lambda i: -values[i].evsi)
    w0 = np.full(risk.size, 1.0 / risk.size)
    today = problem.values(w0)
    best, _ = problem.choose(w0)
    from .study import QUANTITY_OF

    meta = [{"kind": getattr(e, "kind", type(e).__name__), "cells": getattr(e, "cells", None),
             "days": getattr(e, "days", None), "cost_unit": getattr(e, "cost_unit", cost)} for e in chosen_list]
    shown_designs = [{"name": d["name"], "design": d["design"],
                      "value": float(v) if np.isfinite(v) else None} for d, v in zip(scored, today, strict=True)]
    document_settings = {
        "objective": search_settings.objective, "quantity": QUANTITY_OF[search_settings.objective],
        "quantile": search_settings.quantile, "cycles": search_settings.cycles, "c_rate": search_settings.c_rate,
        "current": search_settings.current, "within_data": search_settings.within_data,
        "limits": search_settings.limits.settings(),
        "limit_confidence": search_settings.limits.confidence, "limits_judged_on": search_settings.limits.words(),
        "outcomes": outcomes, "seed": seed, "draws": int(risk.size), "cost_unit": cost,
        "risk_fingerprint": risk.fingerprint}
    origin = card.origin if isinstance(card.origin, str) else str(card.origin)
    return ExperimentRanking([values[i] for i in order], [meta[i] for i in order], shown_designs,
                             scored[best]["name"] if best >= 0 else None, UNIT_OF[search_settings.objective],
                             document_settings, card=origin)


def _evaluate(problem: DecisionProblem, experiments: list, draws: dict, outcomes: int, seed: int,
              progress: bool) -> list[ExperimentValue]:
    bar = None
    if progress:
        from ..inference.progress import progress_bar

        bar = progress_bar(total=len(experiments) * outcomes, desc="next experiment", unit=" outcomes", leave=False)
    out = []
    try:
        for e in experiments:
            step = None if bar is None else (lambda k, b=bar: b.update(1))
            out.append(value_of_information(problem, e, draws, outcomes=outcomes, seed=seed, progress=step,
                                                judged="after"))
    finally:
        if bar is not None:
            bar.close()
    return out

