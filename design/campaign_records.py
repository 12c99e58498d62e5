"""What a campaign's record step needs beside the campaign itself: records stored once (a key the
storage enforces), the proposal cards an entry may name instead of a base, the recalibration's own
seed, what it says while it runs and how long NUTS will take; the raw text of each
observations-file entry and of the files it names, and the cells parsed back from that text.

A record is stored (:func:`.campaign_store.store_records`) under the SHA-256 of its entry and the
files it names in Optuna's ``study_user_attributes`` table, whose ``(study_id, key)`` is unique:
every record of one file is inserted in one transaction, so the same cells recorded by two
processes at the same moment are stored once and the second is refused by the database itself,
not by a read-then-write check.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..priors import CardError
from ..priors.tomlfile import read_toml
from ..priors.vocabulary import term

if TYPE_CHECKING:
    from .campaign import Campaign
from ..priors.lab import ObservedCells, load_observed_cells
from .campaign_store import RECORD_PREFIX, record_key, tell_attrs  # noqa: F401 - RECORD_PREFIX as before

# NUTS wall time of the risk calibration on the 2-core benchmark machine (bench/README.md,
# 2026-12-02): 282 s for the paper's 19 cells and 348 s with 20 more, 4 chains x 2000 steps,
# about 30 s of it compiling.  Per step of one chain: ~47 ms plus ~0.85 ms per cell.
_COMPILE_S = 30.0
_STEP_S = 0.047
_STEP_PER_CELL_S = 0.00085
PAPER_CELLS = 19


def proposal_cards(entries: Iterable, proposals: dict[str, dict], folder: Path) -> dict[str, Path]:
    """The card of each proposal an entry names with ``proposal = "..."`` and no ``base``,
    written into ``folder`` (a scratch folder): proposal name -> card path."""
    out = {}
    for entry in entries:
        if not isinstance(entry, dict) or "base" in entry:
            continue
        name = entry.get("proposal")
        if not isinstance(name, str):
            continue
        text = proposals.get(name, {}).get("card_toml")
        if text:
            path = folder / proposal_file(name)
            path.write_text(text, "utf-8")
            out[name] = path
    return out


def proposal_file(name: str) -> str:
    """The name under which a record keeps the card of the proposal it names without a base."""
    return f"proposal-{name}.toml"


def recalibration_seed(campaign: str, records: Iterable[dict]) -> int:
    """The seed of a recalibration given none: drawn from the campaign and the records it folds
    in, so the same record chooses (reweighting or NUTS) and draws the same way every time."""
    text = json.dumps([campaign, sorted(r["sha256"] for r in records)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def nuts_estimate_s(cells: int, nuts: dict | None) -> float:
    """A rough wall time (s) of the NUTS recalibration on ``cells`` lab cells and the paper's,
    from the 2-core benchmark, scaled by the chains this machine runs at once."""
    settings = dict(nuts or {})
    chains = int(settings.get("chains") or 4)
    steps = int(settings.get("draws") or 1000) + int(settings.get("tune") or 1000)
    parallel = max(1, min(chains, os.cpu_count() or 1))
    per_step = _STEP_S + _STEP_PER_CELL_S * (PAPER_CELLS + cells)
    return _COMPILE_S + math.ceil(chains / parallel) * steps * per_step


def duration_words(seconds: float) -> str:
    """``about 40 s`` or ``about 6 min``."""
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} min"


def say(enabled: bool, line: str) -> None:
    """A progress line on standard error (where a terminal shows it beside a progress bar)."""
    if enabled:
        print(line, file=sys.stderr, flush=True)


# -- the raw text of one observations-file entry ------------------------------------------------

def entry_texts(text: str, label: str, raw: dict) -> tuple[str, list[str]]:
    """The preamble (before the first ``[[cells]]``) and each entry's raw text, from its
    ``[[cells]]`` header to the next; checked against the parsed file ``raw``."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip().split("#")[0].strip() == "[[cells]]"]
    parsed = raw.get("cells", [])
    preamble = "".join(lines[:starts[0]]) if starts else text
    pieces = ["".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)])]
    if len(pieces) != len(parsed) or any(tomllib.loads(p).get("cells", [None])[0] != e for p, e in zip(pieces, parsed)):
        raise CardError("each [[cells]] entry must be written as a [[cells]] table with its [cells.*] sub-tables "
                        "(the campaign stores each entry's text as written)", file=label, field="cells")
    return preamble, pieces


def named_files(entry: dict, folder: Path, label: str = "", where: str = "") -> dict[str, str]:
    """The files an entry names relative to its own (base card, capacities, fit): name -> text.

    The campaign stores them with the record, so only files in the observations file's folder
    (or below it) can be named: one outside it is refused, naming the field, before anything is
    stored (a record whose file later moved could not be read again)."""
    from ..priors.card import _is_builtin

    names = []
    base = entry.get("base")
    if isinstance(base, str) and not _is_builtin(base):
        names.append((base, "base"))
    outcome = entry.get("outcome", {})
    if isinstance(outcome, dict):
        if isinstance(outcome.get("capacities"), str):
            names.append((outcome["capacities"], "outcome.capacities"))
        for key in ("resistance", "resistance_before"):
            value = outcome.get(key)
            if isinstance(value, dict) and isinstance(value.get("fit"), str):
                names.append((value["fit"], f"outcome.{key}.fit"))
    out = {}
    for name, field in names:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise CardError(f"{name!r} is outside the observations file's folder; the campaign keeps the files an "
                            "entry names with its record, so copy it beside the file (or below it)",
                            file=label or None, field=f"{where}.{field}" if where else field)
        path = folder / name
        if path.is_file():
            out[name] = path.read_text("utf-8")
    return out


def parse_records(records: list[dict]) -> ObservedCells | None:
    """The recorded cells, parsed again from their stored text (in a scratch folder)."""
    total = None
    for rec in records:
        with tempfile.TemporaryDirectory(prefix="nassb-record-") as folder:
            root = Path(folder)
            for name, text in rec.get("files", {}).items():
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, "utf-8")
            path = root / "record.toml"
            path.write_text(rec["preamble"] + rec["toml"], "utf-8")
            answered = rec.get("proposal")
            cards = ({answered: root / proposal_file(answered)}
                     if answered and proposal_file(answered) in rec.get("files", {}) else {})
            cells = load_observed_cells(path, paper=False, proposal_cards=cards)
            cells = ObservedCells(cells.cells, f"record {rec.get('key', rec['name'])}", rec["sha256"], cells.lab)
        total = cells if total is None else total + cells
    return total


def record_rows(path: Path, label: str, proposals: dict[str, dict], *, existing: set[str], pending: set[str],
                campaign: str) -> list[dict]:
    """The rows to store for the cells of an observations file: each entry's raw text, the files it
    names, its digest, round and the proposal it answers (of ``proposals``, by name).  Every
    mistake is a CardError naming the entry: an unknown proposal, or a cell recorded already
    (its digest in ``existing``; ``pending``: stored but not yet in the posterior)."""
    from .campaign_store import now

    raw, text = read_toml(path, what="observations file")
    with tempfile.TemporaryDirectory(prefix="nassb-proposals-") as scratch:
        cards = proposal_cards(raw.get("cells", []) if isinstance(raw.get("cells"), list) else [],
                               proposals, Path(scratch))
        cells = load_observed_cells(path, paper=False, proposal_cards=cards)  # every mistake named
    preamble, pieces = entry_texts(text, label, raw)
    preamble = "\n".join(line for line in preamble.splitlines() if not line.strip().startswith("#")) + "\n"
    by_file = {p["card_file"]: p for p in proposals.values() if p["card_file"]}
    rows = []
    for i, (cell, piece, entry) in enumerate(zip(cells, pieces, raw["cells"])):
        files = named_files(entry, path.parent, label, f"cells[{i}]")
        base, named = entry.get("base"), entry.get("proposal")
        if named is not None and named not in proposals:
            raise CardError(f"no proposal {named!r} in the campaign; its proposals: "
                            f"{', '.join(proposals) or 'none yet'}", file=label, field=f"cells[{i}].proposal")
        if base is None and named is not None:
            files[proposal_file(named)] = proposals[named]["card_toml"]
        digest = hashlib.sha256((piece + json.dumps(files, sort_keys=True)).encode()).hexdigest()
        if digest in existing:
            hint = (f"; it is not yet in the posterior: 'nassb campaign recalibrate {campaign}' folds it in"
                    if digest in pending else "")
            raise CardError(f"this cell is recorded already in the campaign{hint}", file=label,
                            field=f"cells[{i}]")
        answered = (proposals.get(named) if named is not None else None) or (
            by_file.get(Path(base).name) if isinstance(base, str) else None) or proposals.get(cell.name)
        round_ = answered["round"] if answered else max((p["round"] for p in proposals.values()), default=0)
        rows.append({"preamble": preamble, "toml": piece, "files": files, "sha256": digest, "round": round_,
                     "proposal": answered["name"] if answered else None, "name": cell.name, "count": cell.count,
                     "file": label, "where": cell.where, "recorded": now(), "index": i,
                     "key": record_key(digest)})
    return rows


def tell(campaign: Campaign, rows: list[dict]) -> dict[str, dict]:
    """Tell the proposals the rows answer: the objective of the built cell under the new
    posterior; the constraint values and the outcome as user attributes."""
    import optuna

    from .study import constraints, objective_value

    scorer, settings, ranges = campaign._scorer()
    study = campaign.study
    open_ = {p["name"]: p for p in campaign._proposals() if p["open"]}
    out = {}
    for row in rows:
        cells = parse_records([row])
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
        tell_attrs(campaign.optuna_storage, study, p["number"], constraints=violations, outcome=outcome,
                   built=design)
        try:
            study.tell(p["number"], value if math.isfinite(value) else None,
                       state=None if math.isfinite(value) else optuna.trial.TrialState.FAIL)
        except (RuntimeError, ValueError):
            continue  # told meanwhile by another record of the same proposal
        del open_[p["name"]]
    return out
