"""The card files of a campaign's proposals: the text of each (the campaign's card as ``base``
and the layers to build) and writing a round's cards all or none."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..priors import OptionError
from .score import DesignScorer
from .variables import VARIABLES


def proposal_card(name: str, design: dict, scorer: DesignScorer, entry: dict | None = None, *, campaign: str,
                  base: str, settings: str, energy: str) -> str:
    """The card file of proposal ``name`` of ``campaign``: ``base`` (the campaign's card) and the
    layers to build; with its described ``entry``, the predicted ``energy`` and risks in a comment.

    Parameters
    ----------
    design : dict
        Card path -> value (MPa, um, mAh/cm^2, a fraction).
    settings : str
        The search settings in words (:func:`~nassb.design.study.describe`).
    energy : str
        The objective's quantity (``E_V_rate`` or ``E_m_rate``).
    """
    from ..inference import cell as eq

    layers = scorer.layers(design)
    model = scorer.model
    lines = [f"# Proposal {name} of the nassb campaign {campaign}: the cell to build.",
             f"# Settings: {settings}."]
    if entry is not None:
        q = entry["quantities"]
        lines.append(f"# Predicted (posterior mean): {energy} {q[energy]['mean']:.4g} {q[energy]['unit']}, "
                     f"P_fracture {q['P_fracture']['mean']:.3f}, P_short {q['P_short']['mean']:.3f}, "
                     f"ohmic drop {q['ohmic_drop']['mean']:.3f} V, retention {q['retention']['mean']:.3f}.")
    lines += ["# Record what was built and what happened in an observations file whose [[cells]] entry",
              f"# names this file as base = \"{name}.toml\" (measured layers override it)."]
    sections: dict[str, list[str]] = {"cell": [f"name = {json.dumps(name)}"], "anode": [], "separator": [],
                                      "cathode": [f"thickness = \"{layers['cathode.thickness']:.6g} um\""]}
    for variable in VARIABLES.values():  # the cathode's capacity and porosity below
        if variable.write is not None or not variable.by_scorer:
            sections.setdefault(variable.section, []).append(variable.line(design[variable.name]))
    capacity, porosity = design["cathode.theoretical_capacity"], design["cathode.porosity"]
    cathode = sections["cathode"]
    if model.derived_porosity or model.derived_capacity:
        loading = eq.loading_for_porosity(porosity, scorer.solid_density, layers["cathode.thickness"])
        cathode.append(f"loading = \"{float(loading):.6g} mg/cm^2\"")
    if not model.derived_porosity:
        cathode.append(f"porosity = \"{porosity:.6g}\"")
    if not model.derived_capacity:
        cathode.append(f"theoretical_capacity = \"{capacity:.6g} mAh/cm^2\"")
    if model.has_delivered:
        delivered = capacity * float(np.mean(scorer.utilisation))
        cathode.append(f"delivered_capacity = \"{delivered:.6g} mAh/cm^2\"  # expected at the card's "
                       "utilisation; give the measured one")
    lines += ["", f"base = {json.dumps(base)}"]
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    from ..priors.files import atomic_target

    with atomic_target(path) as tmp:
        Path(tmp).write_text(text, "utf-8")


def write_cards(folder: Path, cards: list[tuple[str, str]]) -> None:
    """Write the proposal cards (file name, text) into ``folder``, all or none: a file of that
    name there already, a full disk or no permission is one OptionError naming the folder or the
    file, and what was written (the folder too, where this made it) is removed again."""
    import errno
    import shutil

    taken = [folder / name for name, _ in cards if (folder / name).exists()]
    if taken:
        raise OptionError(f"{taken[0]} exists: choose an empty folder", field="out")
    top = None if folder.exists() else folder  # the first folder this makes, removed on failure
    while top is not None and not top.parent.exists():
        top = top.parent
    written: list[Path] = []
    where = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in cards:
            where = folder / name
            _write_text(where, text)
            written.append(where)
    except OSError as err:
        for path in written:
            path.unlink(missing_ok=True)
        if top is not None:
            shutil.rmtree(top, ignore_errors=True)
        if err.errno == errno.ENOSPC:
            raise OptionError(f"no space left on the device of {where}: no proposal was made", field="out") from None
        raise OptionError(f"cannot write {where}: {err.strerror or err}; no proposal was made", field="out") from None
