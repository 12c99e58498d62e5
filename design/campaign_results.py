"""The results of a lab campaign (:mod:`nassb.design.campaign`): one round's proposals, what a
record added, and the campaign's status.  Each is its JSON document: the draws stay in the
campaign's storage, so the document is what a NetCDF file keeps and loads back from."""

from __future__ import annotations

from ..inference.result import Result
from . import campaign_tables

RESUMED = "the stored records"
"""The ``file`` of what :meth:`Campaign.resume` returns (it records no file of its own)."""


class _CampaignResult(Result):
    """A campaign's result: no draws of its own (they stay in the storage); it is its JSON
    document, which is what its NetCDF file keeps and loads back from."""

    idata = None
    diagnostics = None


class ProposalResult(_CampaignResult):
    """One round's proposals: ``{"round", "proposals": [{"name", "card", "design", "quantities"}]}``.

    Each proposal also gives its ``objective`` (the settings' quantile of the energy), whether it
    is ``feasible`` under the current posterior, the limits that bind it and what lies beyond the
    calibrated range (``extrapolated``).
    """

    kind = "campaign-proposal"

    def __init__(self, campaign: str, round_: int, proposals: list[dict], posterior: dict, notes: list[str]):
        self.campaign, self.round, self.proposals, self.posterior, self.notes = (campaign, round_, proposals,
                                                                                 posterior, notes)

    @property
    def title(self) -> str:
        return f"campaign {self.campaign}: round {self.round} proposals"

    def summary(self) -> dict[str, dict]:
        """The predicted quantities of the first (best) proposal."""
        return dict(self.proposals[0]["quantities"]) if self.proposals else {}

    @property
    def warnings(self) -> list[str]:
        return list(self.notes)

    def to_json(self) -> dict:
        return {"campaign": self.campaign, "round": self.round, "proposals": self.proposals,
                "posterior": self.posterior, "warnings": self.warnings}

    def to_dataframe(self):
        """One row per proposal: name, card file, trial, each layer to build (``cathode.thickness
        [um]``, ...), the objective and each predicted quantity's mean and 95 % interval."""
        return campaign_tables.proposals_frame(self.proposals, round_=self.round, kind=self.kind, title=self.title)

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> ProposalResult:
        return cls(document["campaign"], document["round"], document["proposals"], document["posterior"],
                   document.get("warnings", []))

    def plot(self, **kwargs):
        """The predicted energies of each proposal: mean and 95 % interval, the first on top."""
        from ..priors.display.intervals import interval_chart

        names = [n for n in ("E_V_rate", "E_m_rate") if any(n in p["quantities"] for p in self.proposals)]
        if not names:
            raise NotImplementedError("a round without proposals has no figure")
        panels = {n: [(p["name"], p["quantities"][n]) for p in self.proposals if n in p["quantities"]]
                  for n in names}
        units = {n: panels[n][0][1]["unit"] for n in names}
        return interval_chart(panels, units, title=self.title, as_figure=True, **kwargs)


class RecordResult(_CampaignResult):
    """What a record added: the cells, the proposals they answer, and the recalibration."""

    kind = "campaign-record"

    def __init__(self, campaign: str, file: str, cells: list[dict], posterior: dict, notes: list[str]):
        self.campaign, self.file, self.cells, self.posterior, self.notes = campaign, file, cells, posterior, notes

    @property
    def title(self) -> str:
        if self.file == RESUMED:
            return f"campaign {self.campaign}: resumed {len(self.cells)} stored record(s)"
        return f"campaign {self.campaign}: recorded {len(self.cells)} cell(s) from {self.file}"

    @property
    def method(self) -> str:
        return self.posterior.get("method", "")

    def summary(self) -> dict[str, dict]:
        """Each risk parameter of the recalibrated posterior: mean, sd, unit, 95 % interval."""
        return dict(self.posterior.get("parameters", {}))

    @property
    def warnings(self) -> list[str]:
        return list(self.notes)

    def to_json(self) -> dict:
        return {"campaign": self.campaign, "file": self.file, "cells": self.cells, "posterior": self.posterior,
                "warnings": self.warnings}

    def to_dataframe(self):
        """One row per recorded cell: name, round, the proposal it answers, its record key, the
        objective as built, the outcome and each built layer (``separator.thickness [um]``)."""
        return campaign_tables.cells_frame(self.cells, kind=self.kind, title=self.title,
                                           method=self.method)

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> RecordResult:
        return cls(document["campaign"], document["file"], document["cells"], document["posterior"],
                   document.get("warnings", []))


class StatusResult(_CampaignResult):
    """``{"rounds": [{"round", "proposed", "recorded"}], "recorded": N, "best": {...}}``, the
    posteriors round by round (each parameter's mean and 95 % interval) and every proposal."""

    kind = "campaign-status"

    def __init__(self, document: dict, notes: list[str]):
        self.document, self.notes = document, notes

    @property
    def title(self) -> str:
        return f"campaign {self.document['campaign']}"

    @property
    def best(self) -> dict | None:
        return self.document.get("best")

    def summary(self) -> dict[str, dict]:
        """The predicted quantities of the current best cell (empty when none is feasible)."""
        return dict(self.best["quantities"]) if self.best else {}

    @property
    def warnings(self) -> list[str]:
        return list(self.notes)

    def to_json(self) -> dict:
        return {**self.document, "warnings": self.warnings}

    def to_dataframe(self, table: str = "proposals"):
        """A table of the campaign as a DataFrame.

        Parameters
        ----------
        table : {"proposals", "records", "rounds", "posteriors"}
            proposals (default): one row per proposal (round, open, design with units, objective,
            outcome, the records answering it); records: one row per stored record and whether the
            posterior covers it yet; rounds: proposed, recorded and open per round; posteriors:
            each risk parameter's mean, sd and 95 % interval per recalibration (NaN mean and sd
            for a heavy tail, with its median).
        """
        return campaign_tables.status_frame(self.document, table, kind=self.kind, title=self.title)

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> StatusResult:
        document = dict(document)
        return cls(document, document.pop("warnings", []))

    def plot(self, **kwargs):
        """Every risk parameter's posterior mean and 95 % interval from the paper's posterior
        through each recalibration (the figure of the campaign report)."""
        from ..priors.display.figures import parameter_rounds

        posteriors = self.document.get("posteriors", [])
        if not posteriors:
            raise NotImplementedError("a campaign without a posterior has no figure")
        return parameter_rounds(posteriors, sorted(posteriors[-1]["parameters"]), as_figure=True, **kwargs)


__all__ = ["RESUMED", "ProposalResult", "RecordResult", "StatusResult"]
