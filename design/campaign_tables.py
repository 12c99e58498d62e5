"""A campaign's results as pandas DataFrames (``to_dataframe()`` of its proposal, record and
status results); units in the column names and in ``df.attrs["units"]`` (nassb.inference.frames)."""

from __future__ import annotations

from ..inference.frames import design_columns, frame, summary_row, unit_label, wide_columns
from ..priors import OptionError
from ..priors.vocabulary import term

STATUS_TABLES = ("proposals", "records", "rounds", "posteriors")


def _with_units(design: dict) -> dict:
    """A design of plain values (card path -> value) with each variable's unit."""
    return {k: (v if isinstance(v, dict) else {"value": v, "unit": term(k).unit}) for k, v in design.items()}


def _outcome(outcome: dict | None) -> dict:
    o = outcome or {}
    short = o.get("short_cycle")
    return {"cracked": o.get("cracked"), "cycles": o.get("cycles"),
            "short_cycle": None if not short else f"{short[0]}-{short[1]}" if short[0] != short[1] else str(short[0])}


def proposals_frame(proposals: list[dict], *, round_: int, **attrs):
    """A round's proposals (``ProposalResult``)."""
    units: dict[str, str] = {}
    rows = []
    for p in proposals:
        rows.append({"proposal": p["name"], "round": round_, "card": p.get("card"), "trial": p.get("trial"),
                     **design_columns(p["design"], units), "objective": p.get("objective"),
                     "feasible": p.get("feasible"), "active_constraints": " ".join(p.get("active_constraints", [])),
                     **wide_columns(p["quantities"], units, what=("mean", "ci95_low", "ci95_high"))})
    return frame(rows, units, index="proposal", **attrs)


def cells_frame(cells: list[dict], **attrs):
    """The cells a record stored (``RecordResult``)."""
    units: dict[str, str] = {}
    rows = []
    for c in cells:
        rows.append({"cell": c["name"], "round": c.get("round"), "proposal": c.get("proposal"),
                     "count": c.get("count"), "record": c.get("record"), "objective": c.get("objective"),
                     **_outcome(c.get("outcome")), **design_columns(c.get("built", {}), units)})
    return frame(rows, units, index="cell", **attrs)


def status_frame(document: dict, table: str, **attrs):
    """One table of a campaign's status document (``StatusResult``)."""
    if table not in STATUS_TABLES:
        raise OptionError(f"'{table}' is not a campaign table; must be one of {', '.join(STATUS_TABLES)}",
                          field="table")
    units: dict[str, str] = {}
    if table == "rounds":
        return frame(list(document["rounds"]), units, index="round", **attrs)
    if table == "records":
        rows = [{k: r.get(k) for k in ("name", "round", "proposal", "count", "file", "where", "recorded", "key")}
                | {"in_posterior": r.get("in_posterior", True)} for r in document["records"]]
        return frame(rows, units, index="name", **attrs)
    if table == "posteriors":
        rows = []
        for p in document["posteriors"]:
            for name, q in p["parameters"].items():
                rows.append({"posterior": p["index"], "method": p["method"], "records": p["records"],
                             "parameter": name, **summary_row(q)})
        df = frame(rows, units, **attrs)
        df.attrs["units"] = "column 'unit' (each row in its own unit)"
        return df.set_index(["posterior", "parameter"]) if rows else df
    answered: dict[str, list[str]] = {}
    for r in document["records"]:
        if r.get("proposal"):
            answered.setdefault(r["proposal"], []).append(r["name"])
    rows = []
    for p in document["proposals"]:
        energy = next((k for k in ("E_V_rate", "E_m_rate") if k in p["quantities"]), None)
        predicted = {}
        if energy is not None:
            label = unit_label(f"{energy} predicted mean", p["quantities"][energy].get("unit"))
            predicted[label] = summary_row(p["quantities"][energy])["mean"]
            units[label] = p["quantities"][energy].get("unit", "")
        rows.append({"proposal": p["name"], "round": p["round"], "trial": p.get("trial"), "open": p["open"],
                     "card_file": p.get("card_file"), **design_columns(_with_units(p["design_values"]), units),
                     **predicted, "objective_as_built": p.get("value"), **_outcome(p.get("outcome")),
                     "built_as": " ".join(answered.get(p["name"], []))})
    return frame(rows, units, index="proposal", **attrs)
