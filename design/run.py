"""``run_design`` and ``load_design``: a design study from Python, as the command line runs it."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from ..inference.result import Result
from ..priors import CardError, CellCard, OptionError, load_card
from ..priors.secrets import mask_url
from . import extrapolation
from .score import DEFAULT_C_RATE, Limits
from .space import design_space
from .workers import fail_dead_trials
from .study import (QUANTITY_OF, SAMPLERS, SECOND_OBJECTIVES, SearchSettings, baselines, describe, finished,
                    load_existing, make_objective, make_scorer, open_study, proposals, rate_words, settings_of,
                    settings_to_dict, storage_errors)

DEFAULT_STORAGE = "sqlite:///nassb-design.db"
REFINE_SHARE, REFINE_MAX, REFINE_FROM = 0.5, 100, 40  # the default local refinement (refine_budget)
OBJECTIVES = ("E_V", "E_m")


class DesignResult(Result):
    """A design study: its settings, trials, ranked proposals and the paper's cells scored alike.

    Attributes
    ----------
    study : str
        The study's name in its storage.
    storage : str
        The storage URL, password masked.
    settings : SearchSettings
    n_trials, n_feasible : int
    proposals : list of dict
        Distinct feasible designs, best first: ``design`` (variable -> value, unit),
        ``quantities`` (summaries), ``feasible``, ``active_constraints``.
    baselines : dict
        The paper's cells and roadmap steps scored with the same settings.
    calibrated_range : dict
        Card path (and ``"current"``) -> (low, high): where the calibrating cells lie.  Each
        proposal's ``extrapolated`` lists the variables outside it.
    prior_sensitivity : dict
        How the reweighting to widened priors was done (parameters, rule, k-hat); each
        proposal's ``prior_sensitivity`` gives its shifts.
    utilisation : str
        How the utilisation at the cycling current is obtained, in words.
    """

    kind = "design"

    def __init__(self, study: str, storage: str, settings: SearchSettings, n_trials: int, n_feasible: int,
                 proposals: list[dict], baselines: dict[str, dict], card: str = "", *,
                 calibrated_range: dict | None = None, prior_sensitivity: dict | None = None, utilisation: str = ""):
        self.study, self.storage, self.settings = study, mask_url(storage), settings
        self.n_trials, self.n_feasible = n_trials, n_feasible
        self.proposals, self.baselines, self.card = proposals, baselines, card
        self.calibrated_range = {k: tuple(v) for k, v in (calibrated_range or {}).items()}
        self.prior_sensitivity, self.utilisation = prior_sensitivity or {}, utilisation
        self.idata, self.diagnostics = None, None

    @property
    def title(self) -> str:
        return f"design study {self.study}"

    @property
    def best(self) -> dict | None:
        return self.proposals[0] if self.proposals else None

    def summary(self) -> dict[str, dict]:
        """The predicted quantities of the best proposal (empty when none is feasible yet)."""
        return dict(self.best["quantities"]) if self.best else {}

    @property
    def warnings(self) -> list[str]:
        if not self.proposals:
            return ["no feasible design yet: run more trials or relax the limits"]
        return []

    def to_json(self) -> dict:
        st = self.settings
        return {
            "study": self.study,
            "storage": self.storage,
            "card": self.card,
            "settings": {"objective": st.objective, "quantity": QUANTITY_OF[st.objective], "quantile": st.quantile,
                         "pareto": st.pareto, "c_rate": st.c_rate,
                         "current": None if st.current is None else {"value": st.current, "unit": "mA/cm^2"},
                         "rate": rate_words(st), "cycles": st.cycles, "within_data": st.within_data,
                         "limits": {"max_fracture": st.limits.max_fracture, "max_short": st.limits.max_short,
                                    "max_drop": st.limits.max_drop, "min_retention": st.limits.min_retention,
                                    "confidence": st.limits.confidence, "judged_on": st.limits.words()}},
            "description": describe(st),
            "search": settings_to_dict(st),
            "utilisation": self.utilisation,
            "calibrated_range": {k: {"low": lo, "high": hi, "unit": _range_unit(k)}
                                 for k, (lo, hi) in self.calibrated_range.items()},
            "prior_sensitivity": self.prior_sensitivity,
            "n_trials": self.n_trials,
            "n_feasible": self.n_feasible,
            "proposals": self.proposals,
            "baselines": self.baselines,
        }

    @classmethod
    def _from_netcdf(cls, document, groups, idata):
        from .study import settings_from_dict

        ranges = {k: (v["low"], v["high"]) for k, v in document.get("calibrated_range", {}).items()}
        return cls(document["study"], document["storage"], settings_from_dict(document["search"]), document["n_trials"],
                   document["n_feasible"], document["proposals"], document["baselines"], document.get("card", ""),
                   calibrated_range=ranges, prior_sensitivity=document.get("prior_sensitivity"),
                   utilisation=document.get("utilisation", ""))

    def plot(self, **kwargs):
        """Each proposal and baseline: the objective against P_short (posterior means)."""
        from ..reports import figures

        energy = QUANTITY_OF[self.settings.objective]
        points = [(p["quantities"]["P_short"]["mean"], p["quantities"][energy]["mean"], True) for p in self.proposals]
        marks = {k: (v["quantities"]["P_short"]["mean"], v["quantities"][energy]["mean"])
                 for k, v in self.baselines.items()}
        return figures.design_map(points, marks, "P_short (posterior mean)",
                                  f"{self.settings.objective} (posterior mean)", as_figure=True, **kwargs)


def _range_unit(name: str) -> str:
    from ..priors.vocabulary import term

    return "mA/cm^2" if name == extrapolation.CURRENT else term(name).unit


def _limits(max_fracture: float, max_short: float, max_drop: float, min_retention: float,
            confidence: float | None = None) -> Limits:
    for name, value, lo, hi in (("max_fracture", max_fracture, 0.0, 1.0), ("max_short", max_short, 0.0, 1.0),
                                ("min_retention", min_retention, 0.0, 1.0), ("max_drop", max_drop, 0.0, math.inf)):
        if not (isinstance(value, (int, float)) and lo <= value <= hi and not math.isnan(value)):
            raise OptionError(f"must lie in [{lo:g}, {hi:g}], got {value!r}", field=name)
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                   or not 0.5 <= confidence < 1.0):
        raise OptionError(f"must lie in [0.5, 1) (a posterior probability), got {confidence!r}",
                          field="limit_confidence")
    return Limits(float(max_fracture), float(max_short), float(max_drop), float(min_retention),
                  None if confidence is None else float(confidence))


def _quantile(quantile) -> float | None:
    if quantile is None or quantile == "mean":
        return None
    try:
        q = float(quantile)
    except (TypeError, ValueError):
        raise OptionError(f"expected a number in (0, 1) or 'mean', got {quantile!r}", field="quantile") from None
    if not 0 < q < 1:
        raise OptionError(f"must lie in (0, 1), or be 'mean', got {quantile!r}", field="quantile")
    return q


def _check_storage(storage: str) -> None:
    if storage.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://") or ":memory:" in storage:
        raise OptionError("an in-memory study cannot be resumed or shared; give a file or a server", field="storage")


def _c_rate(c_rate, current) -> float | None:
    if c_rate is None:
        return None if current is not None else DEFAULT_C_RATE
    if current is not None:
        raise OptionError("give a C-rate or a current density, not both", field="c_rate")
    if isinstance(c_rate, bool) or not isinstance(c_rate, (int, float)) or not (math.isfinite(c_rate) and c_rate > 0):
        raise OptionError(f"must be a number > 0 (1/h; 0.1 is C/10), got {c_rate!r}", field="c_rate")
    return float(c_rate)


def run_design(card: CellCard | str | Path = "paper-cell-1", *, trials: int = 200, storage: str = DEFAULT_STORAGE,
               study: str | None = None, objective: str = "E_V", quantile: float | str | None = 0.05,
               pareto: str | None = None, max_fracture: float = 0.1, max_short: float = 0.2,
               max_drop: float = 0.1, min_retention: float = 0.8, limit_confidence: float | None = None,
               cycles: int = 100, c_rate: float | None = None,
               current=None, within_data: bool = False, sampler: str = "tpe", seed: int | None = None, top: int = 5,
               progress: bool = False, posterior=None, prior_widening: float = 2.0,
               refine: int | None = None) -> DesignResult:
    """Search the next cells (Optuna) and return the ranked proposals.

    Parameters
    ----------
    card : CellCard, str or Path
        The card whose materials and uncertainties the designs share.
    trials : int
        Trials this call runs (added to the study when it exists).
    storage : str
        Optuna storage: a SQLite URL (default ``sqlite:///nassb-design.db``) or ``postgresql://...``.
    study : str, optional
        Study name (default: from the card and the settings).
    objective : {"E_V", "E_m"}
        Maximised: the ``quantile`` (None or "mean": the mean) of this energy density at the
        cycling current, (U - j R_cell) times the delivered capacity (``E_V_rate``, ``E_m_rate``).
    pareto : {"P_short", "E_m", "E_V"}, optional
        A second objective: the Pareto front.
    max_fracture, max_short, max_drop, min_retention : float
        Limits on the posterior means: P_fracture, P_short within ``cycles``, ohmic drop (V)
        at the cycling current, capacity retention after ``cycles``.
    limit_confidence : float, optional
        Hold the limits with this posterior probability instead of on the means (a chance
        constraint, in [0.5, 1)): e.g. 0.9 asks that the risk models give P_short below
        ``max_short`` in 90 % of their calibrated draws.  A design on a limit of the means breaks
        it about half the time when the posterior is wide; this keeps proposals off that edge.
    c_rate : float, optional
        Cycle each design at this C-rate (1/h) of its own delivered capacity; default 0.1 (C/10)
        unless ``current`` is given.  Giving both is an error.
    current : float or str, optional
        A fixed cycling current density for every design instead: mA/cm^2 or a quantity
        (``"0.5 mA/cm^2"``).
    within_data : bool
        Keep the search inside the range of the cells that calibrate the risk models (separator
        thickness, pressure, capacity, reservoir and the cycling current).
    sampler : {"tpe", "random", "gp"}
    seed : int, optional
        Seed of the sampler.
    top : int
        Proposals to return.
    progress : bool
        A progress bar over the trials.
    posterior : optional
        Calibrated risk draws (a file, a CalibrationResult or a RiskModel).
    prior_widening : float
        The prior sensitivity widens each uninformed prior's spread by this factor (default 2).
    refine : int, optional
        Of the ``trials``, this many go to a local refinement of the best feasible trial at the
        end (:mod:`nassb.design.refine`); default half of ``trials`` (at most 100) from 40 trials
        on, none for a Pareto study.  0 leaves every trial to the sampler.
    """
    from ..inference.risk.predict import load_risk_model
    from ..inference.risk.scoring import parse_current

    if objective not in OBJECTIVES:
        raise OptionError(f"'{objective}' is not an objective; must be one of {', '.join(OBJECTIVES)}",
                          field="objective")
    if pareto is not None and pareto not in SECOND_OBJECTIVES:
        raise OptionError(f"'{pareto}' is not a second objective; must be one of {', '.join(SECOND_OBJECTIVES)}",
                          field="pareto")
    if pareto == objective:
        raise OptionError(f"the second objective must differ from the objective {objective}", field="pareto")
    if sampler not in SAMPLERS:
        raise OptionError(f"'{sampler}' is not a sampler; must be one of {', '.join(SAMPLERS)}", field="sampler")
    for name, value, minimum in (("trials", trials, 1), ("cycles", cycles, 1), ("top", top, 1),
                                 ("refine", 0 if refine is None else refine, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise OptionError(f"must be a whole number >= {minimum}, got {value!r}", field=name)
    if not (isinstance(prior_widening, (int, float)) and math.isfinite(prior_widening) and prior_widening > 0):
        raise OptionError(f"must be a number > 0, got {prior_widening!r}", field="prior_widening")
    limits = _limits(max_fracture, max_short, max_drop, min_retention, limit_confidence)
    q = _quantile(quantile)
    rate = _c_rate(c_rate, current)
    _check_storage(storage)
    card = card if isinstance(card, CellCard) else load_card(card)
    j = None if current is None else parse_current(current, card).value
    risk = load_risk_model(posterior)
    ranges = extrapolation.calibrated_range(risk)
    space = design_space(card)
    settings = SearchSettings(card.sha256, objective=objective, quantile=q, pareto=pareto, current=j, cycles=cycles,
                              limits=limits, space=(), risk=risk.fingerprint, c_rate=rate,
                              within_data=bool(within_data))
    scorer = make_scorer(card, risk, settings)
    if within_data:
        per_current = None if rate is None else 1.0 / (rate * float(scorer.utilisation.mean()))
        space = extrapolation.within(space, ranges, capacity_per_current=per_current, current=j)
    settings = replace(settings, space=tuple((v.name, v.low, v.high) for v in space))
    name = study or f"{card.name}-{settings.fingerprint()}"
    origin = str(Path(card.origin).resolve()) if Path(card.origin).is_file() else card.origin
    optuna_study = open_study(storage, name, settings, sampler, seed, card=origin)
    if isinstance(posterior, (str, Path)) and "nassb_posterior" not in optuna_study.user_attrs:
        # The study's trials were scored on these draws: load_design and the report find them again.
        optuna_study.set_user_attr("nassb_posterior", str(Path(posterior).resolve()))
    objective_of_trial = make_objective(space, scorer, settings, ranges)
    local = refine_budget(refine, trials, pareto)
    with storage_errors(storage, optuna_study):
        optuna_study.optimize(objective_of_trial, n_trials=trials - local, show_progress_bar=progress)
        if local:
            from .refine import refine as refine_best

            ran = refine_best(optuna_study, space, objective_of_trial, local)
            if ran < local:  # no feasible start yet, or the local search converged: the sampler goes on
                optuna_study.optimize(objective_of_trial, n_trials=local - ran)
        fail_dead_trials(optuna_study)  # another machine's dead worker, past its grace period by now
    return _result(optuna_study, name, storage, settings, scorer, space, risk, top, origin, ranges, prior_widening)


def refine_budget(refine: int | None, trials: int, pareto: str | None) -> int:
    """Trials of local refinement out of ``trials`` (bench/README.md: half of 200 trials took the
    median regret at 200 trials from 15 % to 0.01 %)."""
    if pareto is not None:
        return 0
    if refine is None:
        return min(REFINE_MAX, round(REFINE_SHARE * trials)) if trials >= REFINE_FROM else 0
    return min(int(refine), trials)


def load_design(study: str, storage: str = DEFAULT_STORAGE, *, top: int = 5,
                prior_widening: float = 2.0, posterior=None) -> DesignResult:
    """An existing design study's proposals, scored again with its own settings.

    ``posterior`` (a file, CalibrationResult or RiskModel) gives the risk draws the study was
    scored on; by default the file the study recorded when ``run_design`` was given one, else the
    calibration shipped with nassb.  Draws other than the study's are refused.
    """
    from ..inference.risk.predict import load_risk_model

    optuna_study = load_existing(storage, study)
    settings = settings_of(optuna_study)
    card = load_card(optuna_study.user_attrs["nassb_card"])
    if card.sha256 != settings.card_sha256:
        raise OptionError(f"the card {card.origin} changed since the study was made; its trials were scored "
                          "with the old one", field="study")
    recorded = optuna_study.user_attrs.get("nassb_posterior")
    if posterior is None and recorded:
        if not Path(recorded).is_file():
            raise OptionError(f"the study was scored on the risk posterior {recorded}, which is gone; give it "
                              "again (posterior=)", field="posterior")
        posterior = recorded
    risk = load_risk_model(posterior)
    if settings.risk and risk.fingerprint != settings.risk:
        raise OptionError("the risk calibration differs from the one the study was scored on"
                          + (f" ({recorded})" if recorded else "; give the study's posterior (posterior=)"),
                          field="posterior")
    scorer = make_scorer(card, risk, settings)
    ranges = extrapolation.calibrated_range(risk)
    return _result(optuna_study, study, storage, settings, scorer, design_space(card), risk, top, card.origin, ranges,
                   prior_widening)


def _result(optuna_study, name, storage, settings, scorer, space, risk, top, card, ranges,
            prior_widening) -> DesignResult:
    from .sensitivity import reweighting

    weights = reweighting(risk, widening=prior_widening)
    done = finished(optuna_study)
    chosen = proposals(optuna_study, space, scorer, settings, top=top, ranges=ranges, reweighting=weights)
    try:
        scored = baselines(settings, risk, ranges=ranges, reweighting=weights)
    except CardError:  # a baseline card that cannot be scored with this card's materials
        scored = {}
    return DesignResult(name, storage, settings, len(done), sum(1 for t in done if t.user_attrs.get("feasible")),
                        chosen, scored, card, calibrated_range=ranges, prior_sensitivity=weights.to_json(),
                        utilisation=scorer.utilisation_note)


def list_designs(storage: str = DEFAULT_STORAGE) -> list[dict]:
    """The design studies in a storage: name, card, settings and trial counts.

    ``trials`` counts the finished (complete) trials, as a study's result does; ``running`` the
    trials a worker is running now (or ran when it was killed, until a worker resumes the study
    and marks them failed) and ``failed`` those that failed.  The storage is only read: a SQLite
    file on a read-only mount is listed too.
    """
    import optuna

    from .storage import reading_errors, reading_storage
    from .study import _quiet_optuna

    _quiet_optuna()
    if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
        raise OptionError(f"no such study file {storage[len('sqlite:///'):]!r}", field="storage")
    opened = reading_storage(storage)
    states = optuna.trial.TrialState
    out = []
    with reading_errors(storage):
        for s in opened.get_all_studies():
            if "nassb_search" not in s.user_attrs:
                continue
            trials = opened.get_all_trials(opened.get_study_id_from_name(s.study_name), deepcopy=False)
            count = {state: sum(1 for t in trials if t.state == state) for state in states}
            started = min((t.datetime_start for t in trials if t.datetime_start), default=None)
            out.append({"study": s.study_name, "card": s.user_attrs.get("nassb_card", ""),
                        "description": s.user_attrs.get("nassb_description", ""), "trials": count[states.COMPLETE],
                        "running": count[states.RUNNING], "failed": count[states.FAIL],
                        "created": started.isoformat(timespec="seconds") if started else None})
    return out
