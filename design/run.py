"""``run_design`` and ``load_design``: a design study from Python, as the command line runs it."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from ..inference.result import Result
from ..priors import CardError, CellCard, OptionError, load_card
from ..priors.secrets import mask_url
from . import extrapolation
from .batch import search as batched_search
from .decision import Decision
from .space import design_space
from .study_store import card_of as study_card
from .study_store import (description_of, design_of, feasible_of, means_of, posterior_file_of, search_of,
                          set_posterior_file)
from .workers import fail_dead_trials
from .study import (QUANTITY_OF, SAMPLERS, SECOND_OBJECTIVES, SearchSettings, baselines, describe, finished,
                    load_existing, make_objective, make_scorer, open_study, proposals, rate_words, settings_of,
                    settings_to_dict, storage_errors)

DEFAULT_STORAGE = "sqlite:///nassb-design.db"
REFINE_SHARE, REFINE_MAX, REFINE_FROM = 0.5, 100, 40  # the default local refinement (refine_budget)


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
    leave_out : dict
        The observation groups left out one at a time (PSIS: rule, k-hat per group); each
        proposal's ``leave_out`` gives the shifts of its objective and risks without each group,
        and ``rests_on`` the groups without which it would break a limit.
    utilisation : str
        How the utilisation at the cycling current is obtained, in words.
    """

    kind = "design"

    def __init__(self, study: str, storage: str, settings: SearchSettings, n_trials: int, n_feasible: int,
                 proposals: list[dict], baselines: dict[str, dict], card: str = "", *,
                 calibrated_range: dict | None = None, prior_sensitivity: dict | None = None, utilisation: str = "",
                 leave_out: dict | None = None):
        self.study, self.storage, self.settings = study, mask_url(storage), settings
        self.n_trials, self.n_feasible = n_trials, n_feasible
        self.proposals, self.baselines, self.card = proposals, baselines, card
        self.calibrated_range = {k: tuple(v) for k, v in (calibrated_range or {}).items()}
        self.prior_sensitivity, self.utilisation = prior_sensitivity or {}, utilisation
        self.leave_out = leave_out or {}
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
                         "limits": {**st.limits.settings(), "confidence": st.limits.confidence,
                                    "judged_on": st.limits.words()}},
            "description": describe(st),
            "search": settings_to_dict(st),
            "utilisation": self.utilisation,
            "calibrated_range": {k: {"low": lo, "high": hi, "unit": _range_unit(k)}
                                 for k, (lo, hi) in self.calibrated_range.items()},
            "prior_sensitivity": self.prior_sensitivity,
            "leave_out": self.leave_out,
            "n_trials": self.n_trials,
            "n_feasible": self.n_feasible,
            "proposals": self.proposals,
            "baselines": self.baselines,
        }

    def to_dataframe(self):
        """The proposals, best first: ``rank``, each design variable (``separator.thickness [um]``),
        ``objective [unit]``, ``feasible``, the limits that bind, and each predicted quantity's
        posterior mean and 95 % interval (``E_V_rate mean [Wh/l]``, ``... ci95_low``, ...)."""
        from ..inference.frames import design_columns, frame, unit_label, wide_columns

        units: dict[str, str] = {}
        energy = QUANTITY_OF[self.settings.objective]
        rows = []
        for rank, p in enumerate(self.proposals, start=1):
            objective_unit = p["quantities"].get(energy, {}).get("unit", "")
            label = unit_label("objective", objective_unit)
            units[label] = objective_unit
            rows.append({"rank": rank, **design_columns(p["design"], units), label: p.get("objective"),
                         "feasible": p.get("feasible"), "active_constraints": " ".join(p.get("active_constraints", [])),
                         "extrapolated": " ".join(p.get("extrapolated", [])),
                         **wide_columns(p["quantities"], units, what=("mean", "ci95_low", "ci95_high"))})
        return frame(rows, units, index="rank", kind=self.kind, title=self.title, study=self.study)

    @classmethod
    def _from_netcdf(cls, document, groups, idata):
        from .study import settings_from_dict

        ranges = {k: (v["low"], v["high"]) for k, v in document.get("calibrated_range", {}).items()}
        return cls(document["study"], document["storage"], settings_from_dict(document["search"]), document["n_trials"],
                   document["n_feasible"], document["proposals"], document["baselines"], document.get("card", ""),
                   calibrated_range=ranges, prior_sensitivity=document.get("prior_sensitivity"),
                   utilisation=document.get("utilisation", ""), leave_out=document.get("leave_out"))

    def plot(self, **kwargs):
        """Each proposal and baseline: the objective against P_short (posterior means)."""
        from ..priors.vocabulary import term
        from ..priors.display import figures

        energy = QUANTITY_OF[self.settings.objective]
        points = [(p["quantities"]["P_short"]["mean"], p["quantities"][energy]["mean"], True) for p in self.proposals]
        marks = {k: (v["quantities"]["P_short"]["mean"], v["quantities"][energy]["mean"])
                 for k, v in self.baselines.items()}
        return figures.design_map(points, marks, "P_short", energy, "1", term(energy).unit, as_figure=True, **kwargs)


def _range_unit(name: str) -> str:
    from ..priors.vocabulary import term

    return "mA/cm^2" if name == extrapolation.CURRENT else term(name).unit


def _check_storage(storage: str) -> None:
    if storage.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://") or ":memory:" in storage:
        raise OptionError("an in-memory study cannot be resumed or shared; give a file or a server", field="storage")


def run_design(card: CellCard | str | Path = "paper-cell-1", *, trials: int = 200, storage: str = DEFAULT_STORAGE,
               study: str | None = None, decision: Decision | dict | None = None, pareto: str | None = None,
               sampler: str = "tpe", seed: int | None = None, top: int = 5, progress: bool = False, posterior=None,
               prior_widening: float = 2.0, refine: int | None = None, **settings) -> DesignResult:
    """Search the next cells (Optuna) and return the ranked proposals.

    The study starts from the decision's deterministic optimum
    (:func:`nassb.design.optimum.best_design`, one enqueued trial): the first proposal is the cell
    ``nassb next-experiment`` names first for the same card and decision; the sampler's trials
    add the next ones.  The trials run in memory and reach ``storage`` in batches
    (:mod:`nassb.design.batch`): a killed run keeps its trials up to its last batch.  Of several
    workers on one study, one leads: it alone runs the optimum and the local refinement; the
    others give all their trials to the sampler, each with its own seed stream.

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
    decision : Decision or dict, optional
        The design decision (:class:`nassb.design.decision.Decision`); the keyword ``settings``
        below make one (or override its own), with the defaults of
        :data:`nassb.design.decision.DEFAULTS`.
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
        A fixed cycling current density for every design instead: mA/cm^2 or ``"0.5 mA/cm^2"``.
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

    chosen = Decision.of(decision, **settings)
    _check_options(chosen, pareto, sampler, trials, top, refine, prior_widening)
    _check_storage(storage)
    card = card if isinstance(card, CellCard) else load_card(card)
    risk = load_risk_model(posterior)
    ranges = extrapolation.calibrated_range(risk)
    search, scorer, space = _search_setup(card, risk, chosen, pareto, ranges)
    name = study or f"{card.name}-{search.fingerprint()}"
    origin = str(Path(card.origin).resolve()) if Path(card.origin).is_file() else card.origin
    optuna_study = _open(storage, name, search, sampler, seed, origin, posterior)
    _search(optuna_study, storage, scorer, space, search, ranges, trials=trials, refine=refine, pareto=pareto,
            sampler=sampler, seed=seed, progress=progress)
    return _result(optuna_study, name, storage, search, scorer, space, risk, top, origin, ranges, prior_widening)


def _open(storage: str, name: str, search: SearchSettings, sampler: str, seed: int | None, origin: str, posterior):
    """The study (made or opened), which keeps the file of the posterior its trials are scored on."""
    optuna_study = open_study(storage, name, search, sampler, seed, card=origin)
    if isinstance(posterior, (str, Path)) and posterior_file_of(optuna_study) is None:
        # The study's trials were scored on these draws: load_design and the report find them again.
        set_posterior_file(optuna_study, str(Path(posterior).resolve()))
    return optuna_study


def _search_setup(card: CellCard, risk, chosen: Decision, pareto: str | None, ranges: dict):
    """The search's settings (with its space), the scorer and the design space of a decision."""
    search = chosen.search_settings(card.sha256, risk.fingerprint, pareto=pareto)
    scorer = make_scorer(card, risk, search)
    space = search_space(card, scorer, search, ranges)
    return replace(search, space=tuple((v.name, v.low, v.high) for v in space)), scorer, space


def _search(optuna_study, storage: str, scorer, space, search: SearchSettings, ranges: dict, *, trials: int,
            refine: int | None, pareto: str | None, sampler: str, seed: int | None, progress: bool) -> None:
    """Run ``trials`` trials of the study: in memory, recorded in batches; the worker that leads
    starts from the decision's optimum and ends with the local refinement (:mod:`.batch`)."""
    from .optimum import best_design

    objective_of_trial = make_objective(space, scorer, search, ranges)
    local = refine_budget(refine, trials, pareto)
    with storage_errors(storage, optuna_study):
        def first() -> dict | None:  # the worker that leads runs it first, unless the study has it
            return best_design(scorer, space, search, ranges).design if pareto is None else None

        # In memory, recorded in batches; one worker of several leads (batch.py)
        batched_search(optuna_study, objective_of_trial, space, trials=trials, local=local, sampler=sampler,
                       seed=seed, first=first, progress=progress)
        fail_dead_trials(optuna_study)  # a dead worker's trial of an earlier version, past its grace period


def _check_options(chosen: Decision, pareto, sampler, trials, top, refine, prior_widening) -> None:
    """An OptionError naming the first option of :func:`run_design` that is wrong."""
    if pareto is not None and pareto not in SECOND_OBJECTIVES:
        raise OptionError(f"'{pareto}' is not a second objective; must be one of {', '.join(SECOND_OBJECTIVES)}",
                          field="pareto")
    if pareto == chosen.objective:
        raise OptionError(f"the second objective must differ from the objective {chosen.objective}", field="pareto")
    if sampler not in SAMPLERS:
        raise OptionError(f"'{sampler}' is not a sampler; must be one of {', '.join(SAMPLERS)}", field="sampler")
    for name, value, minimum in (("trials", trials, 1), ("top", top, 1),
                                 ("refine", 0 if refine is None else refine, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise OptionError(f"must be a whole number >= {minimum}, got {value!r}", field=name)
    if not (isinstance(prior_widening, (int, float)) and math.isfinite(prior_widening) and prior_widening > 0):
        raise OptionError(f"must be a number > 0, got {prior_widening!r}", field="prior_widening")


def search_space(card: CellCard, scorer, settings: SearchSettings, ranges: dict):
    """The card's design space, kept within the calibrated range for a search within the data."""
    space = design_space(card)
    if settings.within_data:
        rate = settings.c_rate
        per_current = None if rate is None else 1.0 / (rate * float(scorer.utilisation.mean()))
        space = extrapolation.within(space, ranges, capacity_per_current=per_current, current=settings.current,
                                     volumetric_capacity=scorer.volumetric_capacity)
    return space


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

    Parameters
    ----------
    study : str
        The study's name (:func:`list_designs` lists them).
    storage : str
        Optuna storage URL (default ``sqlite:///nassb-design.db``).
    top : int
        Proposals to return.
    prior_widening : float
        The prior sensitivity widens each uninformed prior's spread by this factor (default 2).
    posterior : str, Path, CalibrationResult or RiskModel, optional
        The risk draws the study was scored on.

    Returns
    -------
    DesignResult
        The study's proposals as :func:`run_design` returns them.

    Raises
    ------
    OptionError
        No such study, a card changed since the study was made, or draws other than the study's.
    """
    from ..inference.risk.predict import load_risk_model

    optuna_study = load_existing(storage, study)
    settings = settings_of(optuna_study)
    card = load_card(study_card(optuna_study))
    if card.sha256 != settings.card_sha256:
        raise OptionError(f"the card {card.origin} changed since the study was made; its trials were scored "
                          "with the old one", field="study")
    recorded = posterior_file_of(optuna_study)
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
    from .leave_out import leave_out
    from .readings import readings_of
    from .sensitivity import reweighting

    weights = reweighting(risk, widening=prior_widening)
    leave = leave_out(risk)
    done = finished(optuna_study)
    chosen = proposals(optuna_study, space, scorer, settings, top=top, ranges=ranges, reweighting=weights,
                       leave=leave, readings=readings_of(risk))
    try:
        scored = baselines(settings, risk, ranges=ranges, reweighting=weights, leave=leave)
    except CardError:  # a baseline card that cannot be scored with this card's materials
        scored = {}
    return DesignResult(name, storage, settings, len(done), sum(1 for t in done if feasible_of(t)),
                        chosen, scored, card, calibrated_range=ranges, prior_sensitivity=weights.to_json(),
                        utilisation=scorer.utilisation_note, leave_out=leave.to_json())


def list_designs(storage: str = DEFAULT_STORAGE) -> list[dict]:
    """The design studies in a storage: name, card, settings and trial counts.

    ``trials`` counts the finished (complete) trials, as a study's result does; ``running`` the
    trials a worker is running now (or ran when it was killed, until a worker resumes the study
    and marks them failed) and ``failed`` those that failed.  The storage is only read: a SQLite
    file on a read-only mount is listed too.

    Returns
    -------
    list of dict
        One per study: ``study`` (its name), ``card``, ``description`` (its settings),
        ``trials``, ``running``, ``failed`` and ``created`` (ISO time, or None).

    Raises
    ------
    OptionError
        A SQLite file that does not exist, or a storage that cannot be opened.
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
            if search_of(s) is None:
                continue
            trials = opened.get_all_trials(opened.get_study_id_from_name(s.study_name), deepcopy=False)
            count = {state: sum(1 for t in trials if t.state == state) for state in states}
            started = min((t.datetime_start for t in trials if t.datetime_start), default=None)
            out.append({"study": s.study_name, "card": study_card(s, ""),
                        "description": description_of(s), "trials": count[states.COMPLETE],
                        "running": count[states.RUNNING], "failed": count[states.FAIL],
                        "created": started.isoformat(timespec="seconds") if started else None})
    return out


def design_trials(study: str, storage: str = DEFAULT_STORAGE):
    """Every trial of a design study as a pandas DataFrame, one row per trial (``number``).

    Columns: ``state`` (COMPLETE, RUNNING, FAIL, ...), ``objective [unit]`` (Optuna's value: the
    objective quantity at the study's quantile), ``feasible``, each design variable with its
    unit (``separator.thickness [um]``) and each scored quantity's posterior mean
    (``P_short mean``, ``E_V_rate mean [Wh/l]``); ``df.attrs["units"]`` maps columns to units.
    """
    import optuna

    from ..inference.frames import frame, unit_label
    from ..priors.vocabulary import term
    from .study import load_existing, settings_of

    optuna_study = load_existing(storage, study)
    settings = settings_of(optuna_study)
    energy = QUANTITY_OF[settings.objective]
    units: dict[str, str] = {}
    objective = unit_label("objective", term(energy).unit)
    units[objective] = term(energy).unit
    rows = []
    for t in optuna_study.get_trials(deepcopy=False):
        row: dict = {"number": t.number, "state": t.state.name,
                     objective: t.values[0] if t.state == optuna.trial.TrialState.COMPLETE and t.values else None,
                     "feasible": feasible_of(t)}
        for name, value in design_of(t, {}).items():
            label = unit_label(name, term(name).unit)
            row[label], units[label] = value, term(name).unit
        for name, value in means_of(t, {}).items():
            label = unit_label(f"{name} mean", term(name).unit)
            row[label], units[label] = value, term(name).unit
        rows.append(row)
    return frame(rows, units, index="number", kind="design-trials", study=study, storage=mask_url(storage))
