"""``write_report``: the reports a reviewer can check, from Python as from ``nassb report``."""

from __future__ import annotations

import re
from pathlib import Path

from ..priors import CellCard, OptionError, load_card
from ..priors.errors import OutputError


def default_folder(label: str) -> str:
    """``report-NAME`` with the name made safe for a folder."""
    return "report-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "nassb")


def _check_sources(card, study, arrhenius, campaign, posterior) -> None:
    """An OptionError unless exactly one thing is reported, and a posterior only where it scores risks."""
    given = [name for name, value in (("card", card), ("study", study), ("arrhenius", arrhenius),
                                      ("campaign", campaign)) if value]
    if len(given) != 1:
        raise OptionError("give exactly one of a card, a study, a campaign or an Arrhenius series", field="report")
    if arrhenius and posterior is not None:
        raise OptionError("an Arrhenius fit has no risks to score on a posterior", field="posterior")
    if campaign and posterior is not None:
        raise OptionError("a campaign has its own posterior; give the campaign or a posterior, not both",
                          field="posterior")


def write_report(card: CellCard | str | Path | None = None, *, study: str | None = None,
                 storage: str | None = None, arrhenius: str | Path | None = None,
                 at: str = "25 degC", out: str | Path | None = None, seed: int = 0,
                 command: list[str] | None = None, posterior=None, campaign: str | None = None) -> Path:
    """Write a report folder (report.html, report.md with figures, summary.json, NetCDF draws).

    Give exactly one of ``card`` (a cell: Table 1 by every method, budget, distributions,
    resistances against temperature, risks), ``study`` (a design study in ``storage``),
    ``campaign`` (a lab campaign in ``storage``) or ``arrhenius`` (a temperature series to fit).
    ``posterior`` (a file from ``calibrate_risks(...).to_netcdf`` or a RiskModel) scores a card's
    risks, or rescores a study, on a lab's calibration instead of the shipped one (a campaign has
    its own).  ``storage`` defaults to ``sqlite:///nassb-campaign.db`` for a campaign and
    ``sqlite:///nassb-design.db`` for a study, as the commands that make them.

    Parameters
    ----------
    card : CellCard, str or Path, optional
        A card, a card file or a built-in card's name.
    study, campaign : str, optional
        The name of a design study or of a lab campaign in ``storage``.
    storage : str, optional
        Optuna storage URL of the study or the campaign.
    arrhenius : str or Path, optional
        A temperature series (CSV) to fit with Eq. 4, reported at ``at`` (default 25 degC).
    at : str
        The temperature of an Arrhenius report's values.
    out : str or Path, optional
        The folder to write (default ``report-NAME`` in the working directory); it must be new,
        empty or one nassb wrote, and is replaced as a whole.
    seed : int
        Seed of the Monte Carlo and sampling of a card's or an Arrhenius report.
    command : list of str, optional
        The command line to record in the report's provenance.
    posterior : str, Path or RiskModel, optional
        Calibrated risk draws to score on instead of the shipped calibration.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    OptionError
        Not exactly one of ``card``, ``study``, ``campaign``, ``arrhenius``; a posterior with an
        Arrhenius series or a campaign; an ``out`` folder nassb may not replace.
    """
    from .report import write_report as write_folder

    _check_sources(card, study, arrhenius, campaign, posterior)
    if storage is None:
        storage = "sqlite:///nassb-campaign.db" if campaign else "sqlite:///nassb-design.db"
    if campaign:
        from .campaign_report import campaign_report

        report, label = campaign_report(storage, campaign, command=command), campaign
    elif study:
        from .study_report import study_report

        report, label = study_report(storage, study, command=command, posterior=posterior), study
    elif arrhenius:
        from .study_report import arrhenius_report

        report, label = arrhenius_report(str(arrhenius), at, seed=seed, command=command), Path(arrhenius).stem
    elif card is not None:
        from .cell_report import cell_report

        cell = card if isinstance(card, CellCard) else load_card(card)
        report, label = cell_report(cell, seed=seed, command=command, posterior=posterior), cell.name
    target = Path(out) if out is not None else Path(default_folder(label))
    try:
        return write_folder(report, target)
    except OutputError as err:
        raise OptionError(err.message, field="out") from None
