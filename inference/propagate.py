"""``propagate``: one entry to the three ways of propagating a card (gum, mc, bayes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..priors import CellCard, OptionError, load_card
from .model import CellModel
from .result import PropagationResult
from .sampling import SamplerSettings

METHODS = ("gum", "mc", "bayes")
MIN_MC_DRAWS = 100
MAX_MC_DRAWS = 100_000_000  # every input and output is one array of this many draws


def as_model(card: CellCard | CellModel | str | Path) -> CellModel:
    """A card's model from a card, a model, a card file or a built-in card name."""
    if isinstance(card, CellModel):
        return card
    if isinstance(card, CellCard):
        return CellModel(card)
    return CellModel(load_card(card))


def propagate(card: CellCard | CellModel | str | Path, method: str = "gum", *, draws: int | None = None,
              digits: int | None = None, seed: int | None = None, keep_draws: bool = False,
              settings: SamplerSettings | None = None,
              progress: bool | Callable[[int | None], None] = False) -> PropagationResult:
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

    Returns
    -------
    PropagationResult
    """
    if method not in METHODS:
        raise OptionError(f"'{method}' is not a supported method; must be one of {', '.join(METHODS)}",
                          field="method")
    given = {"draws": draws, "digits": digits, "seed": seed, "settings": settings}
    refused = {"gum": ("draws", "digits", "seed", "settings"), "mc": ("settings",), "bayes": ("digits",)}[method]
    for name in refused:
        if given[name] is not None:
            raise OptionError(f"does not apply to method {method!r}", field=name)
    model = as_model(card)
    if method == "gum":
        from .gum import propagate_gum

        return propagate_gum(model)
    if method == "mc":
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
    from .bayes import propagate_bayes

    settings = settings or SamplerSettings()
    overrides = {k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None}
    if progress:
        overrides["progress"] = True
    return propagate_bayes(model, replace(settings, **overrides))


def _bar(label: str, unit: str) -> Callable[[int | None], None]:
    """A tqdm bar fed with a running count; called with None at the end."""
    from tqdm.auto import tqdm

    bar = tqdm(desc=label, unit=f" {unit}", unit_scale=True, leave=False)

    def update(done: int | None) -> None:
        if done is None:
            bar.close()
            return
        bar.update(done - bar.n)

    return update
