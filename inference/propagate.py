"""``propagate``: one entry to the three ways of propagating a card (gum, mc, bayes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..priors import (
    CardError,
    CellCard,
    Measured,
    OptionError,
    load_card,
    parse_quantity,
)
from ..priors.fields import AREA_RESISTANCE
from .model import CellModel
from .result import PropagationResult
from .sampling import SamplerSettings

METHODS = ("gum", "mc", "bayes")
MIN_MC_DRAWS = 100
MAX_MC_DRAWS = 100_000_000  # every input and output is one array of this many draws


def as_model(card: CellCard | CellModel | str | Path, **options) -> CellModel:
    """A card's model from a card, a model, a card file or a built-in card name.

    ``options`` (``convention``, ``current``, ``resistance``) go to :class:`CellModel`; a model
    given with options is rebuilt from its card.
    """
    options = {k: v for k, v in options.items() if v is not None}
    if isinstance(card, CellModel):
        return CellModel(card.card, **options) if options else card
    if isinstance(card, CellCard):
        return CellModel(card, **options)
    return CellModel(load_card(card), **options)


def _operating_point(card: CellCard, current, c_rate, resistance) -> tuple[float | None, Measured | None]:
    """The current density (mA/cm^2) and the cell resistance for U - j R, or (None, None)."""
    if current is None and c_rate is None:
        if resistance is not None:
            raise OptionError("a resistance applies to an energy at a current; give current or c_rate",
                              field="resistance")
        return None, None
    from .risk.scoring import parse_current

    j = parse_current(current, card, c_rate).value
    if resistance is None or isinstance(resistance, Measured):
        return j, resistance
    try:
        return j, parse_quantity(resistance, AREA_RESISTANCE)
    except CardError as err:
        raise OptionError(err.message, field="resistance") from None


def propagate(card: CellCard | CellModel | str | Path, method: str = "gum", *, draws: int | None = None,
              digits: int | None = None, seed: int | None = None, keep_draws: bool = False,
              settings: SamplerSettings | None = None,
              progress: bool | Callable[[int | None], None] = False, convention: str | None = None,
              current=None, c_rate: float | None = None, resistance=None) -> PropagationResult:
    """Propagate a card's uncertainties to its energy densities, anode thickness and resistances.

    Parameters
    ----------
    card : CellCard, CellModel, str or Path
        A card (:func:`nassb.priors.load_card`), its model, a card file or a built-in name
        (``"paper-cell-1"``).
    method : {"gum", "mc", "bayes"}
        ``gum``: first order (JCGM 100) with exact derivatives and the uncertainty budget;
        ``mc``: Monte Carlo (JCGM 101), adaptive to ``digits`` significant digits unless
        ``draws`` is given; ``bayes``: the posterior given the card's observations (NUTS).
    draws : int, optional
        mc: a fixed number of draws (at least 100); bayes: draws per chain.
    digits : int, optional
        mc: significant digits the adaptive procedure stabilises (default 2).
    seed : int, optional
        mc, bayes: random seed (drawn and recorded when not given).
    keep_draws : bool
        mc: keep the draws (``result.idata`` and the input draws for ``result.band``).
    settings : SamplerSettings, optional
        bayes: NUTS settings (``draws`` and ``seed`` override theirs).
    progress : bool or callable
        Show progress (mc: a callable receiving the draws done, or True for a bar).
    convention : {"paper", "mass-conserving"}, optional
        ``paper`` (default): Eq. 5 as published, the plated metal counted in the anode while the
        cathode keeps its discharged mass; ``mass-conserving``: the charged cathode has lost the
        metal plated on the anode (E_m only; E_V is unchanged).
    current : float or str, optional
        Energies at U - j R instead of the plateau voltage: the current density (mA/cm^2, or a
        quantity such as ``"0.2 mA/cm^2"``).
    c_rate : float, optional
        Instead of ``current``: this C-rate of the card's capacity per cycle (delivered, else
        theoretical), e.g. 0.1 for C/10.
    resistance : str, float or Measured, optional
        The cell's measured area resistance R (ohm cm^2, with its uncertainty, e.g.
        ``"600 ± 100 ohm*cm^2"``); default the card's ``[cell] resistance``.  Needed with a
        current: the separator and the interface alone are not a cell's resistance.

    Returns
    -------
    PropagationResult
        Its ``conventions`` name the voltage, the stack mass and the plated layer used.
    """
    if method not in METHODS:
        raise OptionError(f"'{method}' is not a supported method; must be one of {', '.join(METHODS)}",
                          field="method")
    given = {"draws": draws, "digits": digits, "seed": seed, "settings": settings}
    refused = {"gum": ("draws", "digits", "seed", "settings"), "mc": ("settings",), "bayes": ("digits",)}[method]
    for name in refused:
        if given[name] is not None:
            raise OptionError(f"does not apply to method {method!r}", field=name)
    model = _model(card, convention, current, c_rate, resistance)
    if method == "gum":
        from .gum import propagate_gum

        return propagate_gum(model)
    if method == "mc":
        return _monte_carlo(model, draws, digits, seed, keep_draws, progress)
    from .bayes import propagate_bayes

    settings = settings or SamplerSettings()
    overrides: dict[str, Any] = {k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None}
    if progress:
        overrides["progress"] = True
    return propagate_bayes(model, replace(settings, **overrides))


def _model(card, convention: str | None, current, c_rate: float | None, resistance) -> CellModel:
    """The card's model at its operating point; an OptionError where j R reaches the voltage."""
    base = card if isinstance(card, (CellModel, CellCard)) else load_card(card)
    card_of = base.card if isinstance(base, CellModel) else base
    j, r = _operating_point(card_of, current, c_rate, resistance)
    model = as_model(base, convention=convention, current=j, resistance=r)
    if j is not None:
        nominal = model.nominal()
        drop = j * 1e-3 * nominal["cell.resistance"]
        if not drop < nominal["cell.voltage"]:
            raise OptionError(f"j R = {j:.3g} mA/cm^2 x {nominal['cell.resistance']:g} ohm*cm^2 = {drop:.3g} V "
                              f"reaches the cell voltage {nominal['cell.voltage']:g} V", field="current")
    return model


def _monte_carlo(model: CellModel, draws: int | None, digits: int | None, seed: int | None, keep_draws: bool,
                 progress) -> PropagationResult:
    """JCGM 101 Monte Carlo, its draws and digits checked first; a progress bar where asked."""
    from .montecarlo import propagate_mc

    if draws is not None and draws < MIN_MC_DRAWS:
        raise OptionError(f"Monte Carlo needs at least {MIN_MC_DRAWS} draws, got {draws}", field="draws")
    if draws is not None and draws > MAX_MC_DRAWS:
        raise OptionError(f"at most {MAX_MC_DRAWS:,} draws fit in memory, got {draws:.3g}; without draws "
                          "the draws stop when the results are stable", field="draws")
    if digits is not None and digits < 1:
        raise OptionError(f"must be at least 1, got {digits}", field="digits")
    callback = _bar("Monte Carlo", "draws") if progress is True else (progress or None)
    try:
        return propagate_mc(model, draws=draws, seed=seed, digits=digits or 2, keep_draws=keep_draws,
                            progress=callback)
    finally:
        if callback is not None:
            callback(None)


def _bar(label: str, unit: str) -> Callable[[int | None], None]:
    """A tqdm bar fed with a running count; called with None at the end."""
    from .progress import progress_bar

    bar = progress_bar(desc=label, unit=f" {unit}", unit_scale=True, leave=False)

    def update(done: int | None) -> None:
        if done is None:
            bar.close()
            return
        bar.update(done - bar.n)

    return update
