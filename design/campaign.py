"""A lab campaign: propose a batch of cells, record what the built cells did, recalibrate, again.

Everything lives in one Optuna storage (a SQLite file by default, a PostgreSQL URL for a lab with
several people or machines), nothing beside it:

* the campaign is an Optuna study whose user attributes hold the card, the design settings of
  :func:`~nassb.design.run.run_design` and ``nassb_campaign = 1``;
* a proposal is a trial asked when proposed (state RUNNING, committed at once, so a killed
  command loses nothing) and told when a built cell answers it; its user attributes hold its
  round, its name (``r2-p3``), its design, its predicted quantities and the card text written;
* a record is one study attribute per recorded cell, ``nassb_record_<uuid4>``: the raw TOML text
  of the observations-file entry (priors/lab.py) and the text of every file it names, its SHA-256,
  the round and the proposal it answers.  Two people recording at once write distinct keys;
* every recalibration is one study attribute ``nassb_posterior_<uuid4>``: the draws (compressed
  float32 npz, base64), the records it covers, how it was obtained and a per-parameter summary.
  The current posterior is the one that covers the most records; records it does not cover yet
  (a record killed before its recalibration, or two recorded at once) are folded in by the next
  recalibration.

A recalibration reweights the current posterior by the likelihood of the cells it does not
cover (:func:`nassb.inference.risk.likelihood.log_likelihood`), Pareto-smoothed (PSIS): accepted
when k-hat < 0.7, the effective sample size >= 400 and the distinct draws >= 400, then resampled
to equal-weight draws and moved apart by a Liu-West kernel that keeps their mean and covariance
(so that reweighting after reweighting does not collapse onto a few draws).  Otherwise NUTS
(:func:`~nassb.inference.risk.calibrate.calibrate_risks`) recalibrates on the paper's cells and
every record.  The first lab cells bring the lab-level offsets (``lab.strength``, ``lab.ccd``,
``lab.contact``) that the paper's posterior has no draws of: the reweighting draws them from
their priors (priors/data/risk.toml), several per paper draw, so that the weights target the
posterior of the paper and the lab together.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

from ..priors import CardError, CellCard, OptionError, load_card
from ..priors.lab import load_observed_cells
from ..priors.secrets import mask_url
from ..priors.tomlfile import read_toml
from ..priors.vocabulary import term
from . import campaign_propose as propose_
from . import campaign_records as records_
from . import extrapolation
from .calibration import round_calibration
from .campaign_cards import proposal_card, write_cards
from .campaign_recalibrate import recalibrate
from .campaign_results import RESUMED, ProposalResult, RecordResult, StatusResult
from .campaign_store import (DEFAULT_STORAGE, FLAG, POSTERIOR_PREFIX, decode_draws, list_campaigns, now,
                             open_storage, parameter_summary, shipped_risk)
from .decision import DEFAULTS, KEYS, Decision
from .recalibration import MIN_DISTINCT, reweight  # noqa: F401  (what tests and users import from here)
from .recalibration import liu_west as _liu_west  # noqa: F401
from .score import DesignScorer
from .space import DesignSpace
from .study import (
    QUANTITY_OF,
    SearchSettings,
    constraints,
    describe,
    describe_design,
    make_scorer,
    objective_value,
    rate_words,
)

RECORD_PREFIX = records_.RECORD_PREFIX
RECALIBRATIONS = ("auto", "smc", "reweight", "nuts")
DIVERSITY = 0.15
"""Proposals of one batch differ by at least this fraction of a variable's range (log-scaled
where the search is), and from every proposal still being built."""
SEARCH_TRIALS = 200
EXPLORE = 1
"""Cells of a batch chosen for their expected gain rather than as the next best (at most k - 1)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- the campaign ---------------------------------------------------------------------------------

def _fixed_sampler(values: dict[str, float]):
    """An Optuna sampler that returns given values: a proposal is asked with its design."""
    import optuna

    class Fixed(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, param_name, param_distribution):
            return values[param_name]

    return Fixed()


def _storage_guarded(method):
    """A campaign method whose database errors (a locked or full storage, a lost server) are one
    OptionError naming the storage, as a design search's are (:func:`.study.storage_errors`)."""
    import functools

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        from .study import storage_errors

        with storage_errors(self._url):
            return method(self, *args, **kwargs)

    return guarded


class Campaign:
    """A lab campaign in an Optuna storage (see the module docstring).

    Use :meth:`start` for a new campaign and :meth:`open` for an existing one.

    Attributes
    ----------
    name : str
    storage : str
        The storage URL, password masked.
    card : CellCard
        The card whose materials and uncertainties every proposal shares.
    """

    def __init__(self, name: str, storage: str, study, card: CellCard, settings: dict):
        self.name, self._url, self.study, self.card = name, storage, study, card
        self._settings = settings
        self.storage = mask_url(storage)
        self._risk_cache: tuple[str, object] | None = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def start(cls, name: str, card: CellCard | str | Path = "paper-cell-1", storage: str = DEFAULT_STORAGE, *,
              decision: Decision | dict | None = None, **settings) -> Campaign:
        """Start a campaign named ``name`` in ``storage``.

        Parameters
        ----------
        name : str
            Letters, digits, ``.``, ``_`` and ``-``.
        card : CellCard, str or Path
            The card whose materials and uncertainties the proposals share (built-in name or path).
        storage : str
            Optuna storage: ``sqlite:///FILE`` (default ``sqlite:///nassb-campaign.db``) or
            ``postgresql://...``.
        decision : Decision or dict, optional
            The design decision (:class:`nassb.design.decision.Decision`), as for
            :func:`nassb.design.run.run_design`; keyword ``settings`` make one or override its own.
        objective, quantile, max_fracture, max_short, max_drop, min_retention, cycles, c_rate, current, within_data
            As :func:`nassb.design.run.run_design`: the energy (Wh/L or Wh/kg) maximised at its
            ``quantile``, the limits (probabilities; ohmic drop in V; retention a fraction), the
            target cycles, a C-rate (1/h) or a current density (mA/cm^2).
        limit_confidence : float, optional
            Hold the limits with this posterior probability (a chance constraint, e.g. 0.9)
            instead of on the posterior means: cells built on a limit of the means break it
            about half the time; the simulated campaign (tests/design/test_campaign_simulated.py)
            compares the two.
        """
        import optuna

        from .run import _check_storage

        if not isinstance(name, str) or not _NAME.match(name):
            raise OptionError(f"a campaign name is letters, digits, '.', '_' and '-', got {name!r}", field="name")
        chosen = Decision.of(decision, **settings)
        _check_storage(storage)
        card = card if isinstance(card, CellCard) else load_card(card)
        stored = chosen.settings()  # the keyword settings, as campaigns have always stored them
        op = chosen.operating
        # the card must be scorable
        DesignScorer(card, shipped_risk(), cycles=op.cycles, c_rate=op.c_rate, current=op.current)
        origin = str(Path(card.origin).resolve()) if Path(card.origin).is_file() else card.origin
        from .study import _quiet_optuna

        _quiet_optuna()
        storage_ = open_storage(storage)
        try:
            study = optuna.create_study(study_name=name, storage=storage_, direction="maximize")
        except optuna.exceptions.DuplicatedStudyError:
            raise OptionError(f"a campaign or study {name!r} exists in {mask_url(storage)}; open it or choose "
                              "another name", field="name") from None
        study.set_user_attr("nassb_card", origin)
        study.set_user_attr("nassb_card_sha256", card.sha256)
        study.set_user_attr("nassb_campaign_settings", stored)
        study.set_user_attr("nassb_created", now())
        study.set_user_attr(FLAG, 1)  # last: a campaign is complete once flagged
        return cls(name, storage, study, card, stored)

    @classmethod
    def open(cls, name: str, storage: str = DEFAULT_STORAGE) -> Campaign:
        """An existing campaign; an unknown name or a study that is not a campaign is an OptionError."""
        import optuna

        if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
            raise OptionError(f"no such campaign file {storage[len('sqlite:///'):]!r}", field="storage")
        storage_ = open_storage(storage)
        try:
            study = optuna.load_study(study_name=name, storage=storage_)
        except KeyError:
            raise OptionError(f"no campaign {name!r} in {mask_url(storage)}", field="name") from None
        attrs = study.user_attrs
        if attrs.get(FLAG) != 1:
            raise OptionError(f"{name!r} in {mask_url(storage)} is not a campaign (nassb campaign start makes one)",
                              field="name")
        card = load_card(attrs["nassb_card"])
        if card.sha256 != attrs["nassb_card_sha256"]:
            raise OptionError(f"the card {attrs['nassb_card']} changed since the campaign started", field="name")
        return cls(name, storage, study, card, dict(attrs["nassb_campaign_settings"]))

    # -- what the value-of-information engine reads ----------------------------------------------
    def design_settings(self) -> dict:
        """The :func:`~nassb.design.run.run_design` keyword settings the campaign was started with
        (``current`` in mA/cm^2, or None)."""
        return {k: self._settings.get(k, DEFAULTS[k]) for k in KEYS}

    @property
    def decision(self) -> Decision:
        """The design decision the campaign was started with."""
        return Decision.make(**self.design_settings())

    def search_settings(self, risk=None) -> SearchSettings:
        return self.decision.search_settings(self.card.sha256, getattr(risk, "fingerprint", ""))

    def risk_model(self):
        """The current posterior (paper + every record it covers) as a :class:`RiskModel`."""
        entry = self._current_posterior()
        if entry is None:
            return shipped_risk()
        if self._risk_cache is None or self._risk_cache[0] != entry["key"]:
            from ..inference.risk.predict import RiskModel

            draws = decode_draws(self.study.user_attrs[entry["key"]]["draws"])
            ranges = {k: tuple(v) for k, v in entry.get("observed_range", {}).items()}
            self._risk_cache = (entry["key"], RiskModel(draws, fingerprint=entry["fingerprint"],
                                                        observed_range=ranges, lab=entry.get("lab", "")))
        return self._risk_cache[1]

    def candidate_designs(self, top: int = 5) -> list[dict]:
        """The open proposals and the best recorded cells (up to ``top``, by the objective under
        the current posterior): each ``{"name", "design": {card path: value}}``."""
        scorer, settings, _ = self._scorer()
        out = [{"name": p["name"], "design": dict(p["design_values"])} for p in self._proposals() if p["open"]]
        built = self._built_designs(scorer)
        built.sort(key=lambda b: -objective_value(scorer.score(b["design"]), settings.objective, settings.quantile))
        return out + built[:top]

    # -- reading the storage -------------------------------------------------------------------
    def _records(self) -> list[dict]:
        attrs = self.study.user_attrs
        recs = [{**v, "key": k} for k, v in attrs.items() if k.startswith(RECORD_PREFIX)]
        return sorted(recs, key=lambda r: (r.get("recorded", ""), r["key"]))

    def _posteriors(self) -> list[dict]:
        attrs = self.study.user_attrs
        out = [{k: v for k, v in value.items() if k != "draws"} | {"key": key}
               for key, value in attrs.items() if key.startswith(POSTERIOR_PREFIX)]
        return sorted(out, key=lambda p: (len(p["records"]), p["created"], p["key"]))

    def _current_posterior(self) -> dict | None:
        posts = self._posteriors()
        return posts[-1] if posts else None

    def _proposals(self) -> list[dict]:
        import optuna

        out = []
        for t in self.study.get_trials(deepcopy=False):
            a = t.user_attrs
            if "name" not in a:
                continue  # asked, but killed before it was named: nothing was written for it
            out.append({"number": t.number, "name": a["name"], "round": a["round"], "design_values": a["design"],
                        "card_toml": a.get("card_toml", ""),
                        "quantities": a.get("quantities", {}), "card_file": a.get("card_file", ""),
                        "open": t.state == optuna.trial.TrialState.RUNNING,
                        "value": t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
                        "outcome": a.get("outcome"), "exploration": bool(a.get("exploration", False)),
                        "expected_gain": a.get("expected_gain")})
        return out

    def _scorer(self, risk=None):
        risk = risk if risk is not None else self.risk_model()
        settings = self.search_settings(risk)
        scorer = make_scorer(self.card, risk, settings)
        ranges = extrapolation.calibrated_range(risk)
        return scorer, settings, ranges

    def _space(self, scorer: DesignScorer, settings: SearchSettings, ranges: dict) -> DesignSpace:
        from .run import search_space

        return search_space(self.card, scorer, settings, ranges)

    def _built_designs(self, scorer: DesignScorer) -> list[dict]:
        """The recorded cells that neither cracked nor shorted, as designs (their built layers)."""
        cells = records_.parse_records(self._records())
        out: list[dict] = []
        for cell in cells or ():
            if cell.outcome.cracked or cell.outcome.short is not None:
                continue  # a cell that cracked or shorted is data, not a candidate to build again
            try:
                out.append({"name": cell.name, "design": scorer.design_of_card(cell.card)})
            except CardError:
                continue  # a record without what a design needs (a pressure) is data, not a candidate
        return out

    # -- propose -------------------------------------------------------------------------------
    @_storage_guarded
    def propose(self, k: int, out: str | Path | None = None, *, trials: int = SEARCH_TRIALS, seed: int | None = None,
                diversity: float = DIVERSITY, explore: int = EXPLORE, progress: bool = False) -> ProposalResult:
        """Choose ``k`` distinct feasible cells to build this round, ask one trial for each, and
        write one ready-to-use card file per proposal into ``out`` (a folder; default: none).

        The current posterior scores an in-memory search (``trials`` Optuna trials, TPE, with the
        design's local refinement), the same objective and limits as
        :func:`~nassb.design.run.run_design`.  The batch is chosen jointly: best first, each next
        one at least ``diversity`` (a fraction of a variable's range) from those chosen and from
        every proposal still being built.

        ``explore`` of the ``k`` cells (default 1, at most k - 1: the best cell is always built)
        are chosen instead for their expected gain (:mod:`nassb.design.acquisition`): the expected
        improvement of the batch's best truly feasible cell if the posterior's draws are the
        possible truths, among the search's designs that meet the limits.  They are labelled
        ``exploration`` with their ``expected_gain``; every proposal carries its expected gain
        in turn.  ``explore=0`` builds the best cells alone.
        """
        from .leave_out import leave_out
        from .readings import readings_of

        folder = propose_.checked_options(k, out, trials, diversity, explore)
        notes: list[str] = []
        pending = self._pending_records()
        if pending:
            self.resume(progress=progress)  # and the proposals they answer told
            notes.append(f"{len(pending)} record(s) not yet in the posterior were folded in first")
        risk = self.risk_model()
        scorer, settings, ranges = self._scorer(risk)
        space = self._space(scorer, settings, ranges)
        candidates = propose_.search(space, scorer, settings, ranges, trials, seed, progress)
        building = [p["design_values"] for p in self._proposals() if p["open"]]
        chosen, labels, gains = propose_.batch(scorer, settings, space, candidates, building, k, diversity, explore,
                                               notes)
        round_ = 1 + max((p["round"] for p in self._proposals()), default=0)
        posterior = self._current_posterior()
        described = []
        leave = leave_out(risk)
        readings = readings_of(risk)
        unit = term(QUANTITY_OF[settings.objective]).unit
        for i, design in enumerate(chosen):
            name = f"r{round_}-p{i + 1}"
            entry = describe_design(scorer, settings, design, ranges=ranges, leave=leave, readings=readings,
                                    exploration=labels[i], expected_gain={"value": gains[i], "unit": unit})
            text = self.card_text(name, design, scorer, entry)
            described.append((name, design, entry, text))
        if folder is not None:  # the cards on disk first: nothing is asked that no file backs
            write_cards(folder, [(f"{name}.toml", text) for name, _, _, text in described])
        proposals: list[dict] = []
        try:
            for name, design, entry, text in described:
                proposals.append(self._commit_proposal(name, design, entry, text, space, round_, posterior, folder))
        except BaseException:
            for name, *_ in described[len(proposals):]:  # cards that no committed proposal backs
                if folder is not None:
                    (folder / f"{name}.toml").unlink(missing_ok=True)
            raise
        return ProposalResult(self.name, round_, proposals, self._posterior_json(posterior), notes)

    def _commit_proposal(self, name: str, design: dict, entry: dict, text: str, space: DesignSpace, round_: int,
                         posterior: dict | None, folder: Path | None) -> dict:
        """Ask the proposal's trial (RUNNING, committed at once) and name it; its JSON entry."""
        file = f"{name}.toml"
        trial = self._ask(design, space)
        self.study._storage.set_trial_user_attr(trial._trial_id, "design", design)
        attrs: list[tuple[str, Any]] = [
            ("round", round_), ("quantities", entry["quantities"]), ("card_toml", text), ("card_file", file),
            ("objective", entry["objective"]), ("posterior", posterior["key"] if posterior else "shipped"),
            ("exploration", entry["exploration"]), ("expected_gain", entry["expected_gain"]),
            ("proposed", now()), ("name", name)]  # the name last: a proposal is complete once named
        for key, value in attrs:
            trial.set_user_attr(key, value)
        return {"name": name, "card": str(folder / file) if folder is not None else file,
                "trial": trial.number, "design": entry["design"], "quantities": entry["quantities"],
                "objective": entry["objective"], "current": entry["current"],
                "feasible": entry["feasible"], "active_constraints": entry["active_constraints"],
                "extrapolated": entry.get("extrapolated", []), "extrapolated_by": entry.get("extrapolated_by", {}),
                "leave_out": entry.get("leave_out", {}), "rests_on": entry.get("rests_on", []),
                "exploration": entry["exploration"], "expected_gain": entry["expected_gain"],
                "readings": entry.get("readings", {}), "binding_reading": entry.get("binding_reading")}

    def _ask(self, design: dict, space: DesignSpace):
        """A RUNNING trial with the design's values, committed at once."""
        import optuna

        from .study import _quiet_optuna

        _quiet_optuna()
        study = optuna.load_study(study_name=self.name, storage=self.study._storage,
                                  sampler=_fixed_sampler(design))
        float_distribution = optuna.distributions.FloatDistribution
        distributions: dict[str, optuna.distributions.BaseDistribution] = {
            v.name: float_distribution(v.low, v.high, log=v.log and not v.fixed) for v in space}
        return study.ask(distributions)

    def card_text(self, name: str, design: dict, scorer: DesignScorer, entry: dict | None = None) -> str:
        """The card file of a proposal: the campaign's card as ``base`` and the layers to build
        (cathode thickness, porosity or loading, capacity, separator, reservoir, pressure)."""
        return proposal_card(name, design, scorer, entry, campaign=self.name,
                             base=self.study.user_attrs["nassb_card"], settings=describe(self.search_settings()),
                             energy=QUANTITY_OF[self._settings["objective"]])

    # -- record --------------------------------------------------------------------------------
    @_storage_guarded
    def record(self, observations: str | Path, *, recalibration: str = "auto", nuts: dict | None = None,
               seed: int | None = None, progress: bool = False) -> RecordResult:
        """Store the cells of an observations file (priors/lab.py), recalibrate, and tell the
        proposals they answer.

        Parameters
        ----------
        observations : str or Path
            An observations file; each ``[[cells]]`` entry answers the proposal it names
            (``proposal = "r1-p2"``), else the one whose card file it names as ``base``
            (``base = "r1-p2.toml"``), else the one whose name it takes (``name = "r1-p2"``).
            A built cell may differ from its proposal: its own layers (the entry's overrides) count.
        recalibration : {"auto", "smc", "reweight", "nuts"}
            auto: PSIS reweighting where its gate passes, else sequential Monte Carlo (the new
            cells' likelihood tempered in steps, :func:`~nassb.design.recalibration.temper`;
            seconds), NUTS only where that fails its own gate too; smc: sequential Monte Carlo
            only; reweight: reweighting only (warned when the gate fails); nuts: NUTS always.

            Before the new cells enter, what the posterior predicted for them is scored
            (:func:`~nassb.design.calibration.calibration`: Brier and log scores, interval
            coverage, PIT); where they are less probable than its own predictive allows, the
            posterior is widened first (:func:`~nassb.design.recalibration.widen`) and the
            result says so.
        nuts : dict, optional
            NUTS settings for :func:`~nassb.inference.risk.calibrate.calibrate_risks` (draws,
            tune, chains).
        seed : int, optional
            Seed of the reweighting's lab-offset draws and resampling, and of NUTS; by default
            drawn from the campaign and the records, so the same record chooses the same way.
        progress : bool
            Say on standard error what is done (stored, reweighted, the gate and why, NUTS and
            about how long it takes) and show NUTS's progress bar.

        The same cells recorded twice (one after the other, or by two processes at the same
        moment) are stored once: the second is a CardError naming the entry.
        """
        if recalibration not in RECALIBRATIONS:
            raise OptionError(f"'{recalibration}' is not a recalibration; must be one of {', '.join(RECALIBRATIONS)}",
                              field="recalibration")
        path = Path(observations)
        label = str(observations)
        raw, text = read_toml(path, what="observations file")
        proposals = {p["name"]: p for p in self._proposals()}
        with tempfile.TemporaryDirectory(prefix="nassb-proposals-") as scratch:
            cards = records_.proposal_cards(raw.get("cells", []) if isinstance(raw.get("cells"), list) else [],
                                            proposals, Path(scratch))
            cells = load_observed_cells(path, paper=False, proposal_cards=cards)  # every mistake named
        preamble, pieces = records_.entry_texts(text, label, raw)
        preamble = "\n".join(line for line in preamble.splitlines() if not line.strip().startswith("#")) + "\n"
        pending = {r["sha256"] for r in self._pending_records()}
        existing = {r["sha256"] for r in self._records()}
        by_file = {p["card_file"]: p for p in proposals.values() if p["card_file"]}
        rows = []
        for i, (cell, piece, entry) in enumerate(zip(cells, pieces, raw["cells"])):
            files = records_.named_files(entry, path.parent, label, f"cells[{i}]")
            base, named = entry.get("base"), entry.get("proposal")
            if named is not None and named not in proposals:
                raise CardError(f"no proposal {named!r} in the campaign; its proposals: "
                                f"{', '.join(proposals) or 'none yet'}", file=label, field=f"cells[{i}].proposal")
            if base is None and named is not None:
                files[records_.proposal_file(named)] = proposals[named]["card_toml"]
            digest = _sha(piece + json.dumps(files, sort_keys=True))
            if digest in existing:
                hint = (f"; it is not yet in the posterior: 'nassb campaign recalibrate {self.name}' folds it in"
                        if digest in pending else "")
                raise CardError(f"this cell is recorded already in the campaign{hint}", file=label,
                                field=f"cells[{i}]")
            answered = (proposals.get(named) if named is not None else None) or (
                by_file.get(Path(base).name) if isinstance(base, str) else None) or proposals.get(cell.name)
            round_ = answered["round"] if answered else max((p["round"] for p in proposals.values()), default=0)
            rows.append({"preamble": preamble, "toml": piece, "files": files, "sha256": digest, "round": round_,
                         "proposal": answered["name"] if answered else None, "name": cell.name, "count": cell.count,
                         "file": label, "where": cell.where, "recorded": now(), "index": i,
                         "key": records_.record_key(digest)})
        records_.parse_records(rows)  # the stored text reads back on its own: checked before anything is stored
        records_.store_records(self.study, rows, label)  # all at once, each key once: the storage refuses a twin
        notes = []
        for row in rows:
            if row["proposal"] is None:
                notes.append(f"{row['name']} answers no proposal of the campaign (name it as a proposal's card file "
                             "in base, or give it the proposal's name); it informs the risks all the same")
        records_.say(progress, f"stored {len(rows)} record(s) of {label}; recalibrating")
        posterior = self.recalibrate(recalibration=recalibration, nuts=nuts, seed=seed, progress=progress)
        notes.extend(posterior.pop("notes", []))
        told = self._tell(rows)
        cells_json = [{"name": r["name"], "where": r["where"], "count": r["count"], "round": r["round"],
                       "proposal": r["proposal"], "record": r["key"], **told.get(r["key"], {})} for r in rows]
        return RecordResult(self.name, label, cells_json, posterior, notes)

    @_storage_guarded
    def resume(self, *, recalibration: str = "auto", nuts: dict | None = None, seed: int | None = None,
               progress: bool = False) -> RecordResult:
        """Finish what a killed ``record`` left: fold the stored records the posterior does not
        cover yet into a new posterior, and tell the open proposals that stored records answer."""
        if recalibration not in RECALIBRATIONS:
            raise OptionError(f"'{recalibration}' is not a recalibration; must be one of {', '.join(RECALIBRATIONS)}",
                              field="recalibration")
        pending = self._pending_records()
        records_.say(progress, f"{len(pending)} stored record(s) not yet in the posterior"
                     + ("; recalibrating" if pending else ""))
        posterior = self.recalibrate(recalibration=recalibration, nuts=nuts, seed=seed, progress=progress)
        notes = posterior.pop("notes", [])
        open_ = {p["name"] for p in self._proposals() if p["open"]}
        rows = [r for r in self._records() if r["key"] in {p["key"] for p in pending} or r.get("proposal") in open_]
        told = self._tell(rows)
        if not pending and not told:
            notes.append("nothing to resume: every stored record is in the posterior and its proposal told")
        cells_json = [{"name": r["name"], "where": r["where"], "count": r.get("count", 1), "round": r["round"],
                       "proposal": r["proposal"], "record": r["key"], **told.get(r["key"], {})} for r in rows]
        return RecordResult(self.name, RESUMED, cells_json, posterior, notes)

    def _pending_records(self) -> list[dict]:
        current = self._current_posterior()
        covered = set(current["records"]) if current else set()
        return [r for r in self._records() if r["key"] not in covered]

    def _tell(self, rows: list[dict]) -> dict[str, dict]:
        """Tell the proposals the rows answer: the objective of the built cell under the new
        posterior; the constraint values and the outcome as user attributes."""
        import optuna

        scorer, settings, ranges = self._scorer()
        open_ = {p["name"]: p for p in self._proposals() if p["open"]}
        out = {}
        for row in rows:
            cells = records_.parse_records([row])
            assert cells is not None  # one record, one or more cells
            cell = next(iter(cells))
            try:
                design = scorer.design_of_card(cell.card)
            except CardError:
                continue
            values = scorer.score(design)
            value = objective_value(values, settings.objective, settings.quantile)
            violations = constraints(values, settings, ranges)
            o = cell.outcome
            outcome = {"cracked": o.cracked, "cycles": o.cycles,
                       "short_cycle": list(o.short) if o.short else None}
            out[row["key"]] = {"built": {k: {"value": float(v), "unit": term(k).unit} for k, v in design.items()},
                               "objective": value, "outcome": outcome}
            p = open_.get(row["proposal"] or "")
            if p is None:
                continue
            trial_id = self.study._storage.get_trial_id_from_study_id_trial_number(self.study._study_id, p["number"])
            self.study._storage.set_trial_user_attr(trial_id, "constraints", violations)
            self.study._storage.set_trial_user_attr(trial_id, "outcome", outcome)
            self.study._storage.set_trial_user_attr(trial_id, "built", design)
            try:
                self.study.tell(p["number"], value if math.isfinite(value) else None,
                                state=None if math.isfinite(value) else optuna.trial.TrialState.FAIL)
            except (RuntimeError, ValueError):
                continue  # told meanwhile by another record of the same proposal
            del open_[p["name"]]
        return out

    # -- recalibrate -----------------------------------------------------------------------------
    def recalibrate(self, *, recalibration: str = "auto", nuts: dict | None = None, seed: int | None = None,
                    progress: bool = False) -> dict:
        """Fold every record the current posterior does not cover into a new posterior (stored);
        :func:`~nassb.design.campaign_recalibrate.recalibrate`."""
        return recalibrate(self, recalibration=recalibration, nuts=nuts, seed=seed, progress=progress)

    def _posterior_json(self, entry: dict | None) -> dict:
        if entry is None:
            shipped = shipped_risk()
            return {"key": "shipped", "method": "shipped", "records": [], "fingerprint": shipped.fingerprint,
                    "parameters": parameter_summary(shipped.draws)}
        keep = ("key", "method", "gate", "fingerprint", "records", "parameters", "created", "cells", "rounds",
                "calibration")
        return {k: entry[k] for k in keep if k in entry}

    # -- status ----------------------------------------------------------------------------------
    @_storage_guarded
    def status(self) -> StatusResult:
        """Rounds, proposals and outcomes, the posterior after each recalibration, and the best
        cell (recorded or proposed, feasible, highest objective under the current posterior)."""
        proposals = self._proposals()
        records = self._records()
        rounds = sorted({p["round"] for p in proposals} | {r["round"] for r in records})
        checks = [p["calibration"] for p in self._posteriors() if p.get("calibration")]
        table = [{"round": r, "proposed": sum(1 for p in proposals if p["round"] == r),
                  "recorded": sum(1 for x in records if x["round"] == r),
                  "open": sum(1 for p in proposals if p["round"] == r and p["open"]),
                  "calibration": round_calibration([c for c in checks if r in c.get("rounds", [])]) or None}
                 for r in rounds]
        scorer, settings, ranges = self._scorer()
        candidates = [("proposed", p["name"], p["design_values"]) for p in proposals if p["open"]]
        candidates += [("recorded", b["name"], b["design"]) for b in self._built_designs(scorer)]
        best = None
        for source, name, design in candidates:
            entry = describe_design(scorer, settings, design, ranges=ranges)
            if entry["feasible"] and (best is None or entry["objective"] > best["objective"]):
                best = {"name": name, "source": source, **entry}
        notes = []
        if candidates and best is None:
            notes.append("no recorded or proposed cell meets the limits under the current posterior")
        pending = self._pending_records()
        waiting = {r["key"] for r in pending}
        if pending:
            notes.append(f"{len(pending)} record(s) are not yet in the posterior: "
                         f"{', '.join(r['name'] for r in pending)} ('nassb campaign recalibrate {self.name}' or the "
                         "next propose or record folds them in)")
        shipped = self._posterior_json(None)
        posteriors = [{"index": 0, "method": "shipped", "records": 0, "rounds": [], "fingerprint":
                       shipped["fingerprint"], "parameters": shipped["parameters"]}]
        for i, p in enumerate(self._posteriors()):
            posteriors.append({"index": i + 1, "method": p["method"], "records": len(p["records"]),
                               "rounds": p.get("rounds", []), "created": p["created"],
                               "fingerprint": p["fingerprint"], "parameters": p["parameters"]})
        document = {"campaign": self.name, "storage": self.storage, "card": self.study.user_attrs["nassb_card"],
                    "settings": {**self.design_settings(), "description": describe(settings),
                                 "rate": rate_words(settings)},
                    "rounds": table, "recorded": len(records),
                    "cells": int(sum(r.get("count", 1) for r in records)), "best": best,
                    "proposals": [{k: v for k, v in p.items() if k not in ("number", "card_toml")}
                                  | {"trial": p["number"]} for p in proposals],
                    "records": [{k: r.get(k) for k in ("key", "name", "round", "proposal", "file", "where", "count",
                                                       "recorded")} | {"in_posterior": r["key"] not in waiting}
                                for r in records],
                    "pending": [r["name"] for r in pending],
                    "posteriors": posteriors}
        return StatusResult(document, notes)


__all__ = [
    "DEFAULT_STORAGE",
    "Campaign",
    "ProposalResult",
    "RecordResult",
    "StatusResult",
    "list_campaigns",
    "reweight",
]
