"""One diagnostics type for every result that rests on draws: can these numbers be trusted?

The gate (design.md): R-hat above 1.01, a bulk or tail ESS below 400, or any divergence makes a
NUTS result untrustworthy; :attr:`Diagnostics.failing` names the quantities, and
:meth:`Diagnostics.warnings` says in words what to do.  Other methods (Monte Carlo, importance
sampling) fill what applies to them and add their own notes.
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np

RHAT_LIMIT = 1.01
ESS_LIMIT = 400


def import_arviz():
    """Import arviz without its refactoring notice on stderr."""
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


@dataclass(frozen=True)
class Diagnostics:
    """How far a result's draws can be trusted.

    Attributes
    ----------
    method : str
        What made the draws ("NUTS (PyMC)", "Monte Carlo", ...).
    chains, draws_per_chain : int
    max_rhat : float or None
        Largest rank-normalised split R-hat over the quantities (None where there are no chains).
    min_ess_bulk, min_ess_tail : float or None
        Smallest bulk and tail effective sample sizes.
    divergences : int
        Divergent NUTS transitions.
    failing : tuple of str
        Quantities that fail the gate (R-hat, bulk or tail ESS).
    problems : tuple of str
        Further reasons the result fails (each a sentence), from checks beyond the sampler's.
    notes : tuple of str
        What a reader should know that does not fail the result.
    """

    method: str
    chains: int = 1
    draws_per_chain: int = 0
    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    min_ess_tail: float | None = None
    divergences: int = 0
    failing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing fails the gate."""
        return not self.failing and self.divergences == 0 and not self.problems

    @classmethod
    def from_idata(cls, idata, names: list[str], method: str = "NUTS (PyMC)") -> Diagnostics:
        """R-hat, bulk and tail ESS of the varying quantities ``names`` and the divergences."""
        az = import_arviz()
        posterior = idata.posterior
        varying = [n for n in dict.fromkeys(names) if n in posterior and _varies(posterior[n])]
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            rhat = az.rhat(idata, var_names=varying) if varying else {}
            bulk = az.ess(idata, var_names=varying, method="bulk") if varying else {}
            tail = az.ess(idata, var_names=varying, method="tail") if varying else {}
        per = {n: (_finite_or_nan(rhat[n].max()), _finite_or_nan(bulk[n].min()), _finite_or_nan(tail[n].min()))
               for n in varying}
        divergences = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.get(
            "sample_stats", {}) else 0
        failing = tuple(sorted(n for n, (r, b, t) in per.items()
                               if not (r <= RHAT_LIMIT and b >= ESS_LIMIT and t >= ESS_LIMIT)))
        return cls(
            method=method,
            chains=int(posterior.sizes["chain"]),
            draws_per_chain=int(posterior.sizes["draw"]),
            max_rhat=max((v[0] for v in per.values()), default=None),
            min_ess_bulk=min((v[1] for v in per.values()), default=None),
            min_ess_tail=min((v[2] for v in per.values()), default=None),
            divergences=divergences,
            failing=failing,
        )

    def with_problems(self, *problems: str) -> Diagnostics:
        """The same diagnostics with further reasons to fail."""
        from dataclasses import replace

        return replace(self, problems=self.problems + tuple(p for p in problems if p))

    def with_notes(self, *notes: str) -> Diagnostics:
        from dataclasses import replace

        return replace(self, notes=self.notes + tuple(n for n in notes if n))

    def warnings(self) -> list[str]:
        """Plain-language warnings for a result that fails the gate (empty when it passes)."""
        out = []
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions: the posterior may be biased; "
                       "reparametrise or raise the target acceptance")
        if self.failing:
            out.append(f"R-hat > {RHAT_LIMIT} or bulk/tail ESS < {ESS_LIMIT} for: {', '.join(self.failing)}; "
                       "run more draws before trusting these")
        out.extend(self.problems)
        return out

    def sentence(self) -> str:
        """One sentence for tables and reports: the chains, R-hat, ESS, divergences, verdict."""
        parts = [f"{self.method}: {self.chains} chain{'s' * (self.chains != 1)} x {self.draws_per_chain} draws"]
        if self.max_rhat is not None:
            parts.append(f"max R-hat {self.max_rhat:.3f}")
        if self.min_ess_bulk is not None:
            tail = f" / tail {self.min_ess_tail:.0f}" if self.min_ess_tail is not None else ""
            parts.append(f"min ESS bulk {self.min_ess_bulk:.0f}{tail}")
        if self.method.startswith("NUTS"):
            parts.append(f"{self.divergences} divergence{'s' * (self.divergences != 1)}")
        verdict = "passes the gate" if self.ok else "FAILS the gate: " + "; ".join(self.warnings())
        return ", ".join(parts) + f"; {verdict}"

    def to_json(self) -> dict:
        """The JSON object of the diagnostics (non-finite numbers become null when written)."""
        return {
            "method": self.method,
            "max_rhat": self.max_rhat,
            "min_ess_bulk": self.min_ess_bulk,
            "min_ess_tail": self.min_ess_tail,
            "divergences": self.divergences,
            "chains": self.chains,
            "draws_per_chain": self.draws_per_chain,
            "failing": list(self.failing),
            "problems": list(self.problems),
            "notes": list(self.notes),
            "ok": self.ok,
        }

    @classmethod
    def from_json(cls, doc: dict) -> Diagnostics:
        return cls(method=doc.get("method", ""), chains=int(doc.get("chains", 1)),
                   draws_per_chain=int(doc.get("draws_per_chain", 0)), max_rhat=doc.get("max_rhat"),
                   min_ess_bulk=doc.get("min_ess_bulk"), min_ess_tail=doc.get("min_ess_tail"),
                   divergences=int(doc.get("divergences", 0)), failing=tuple(doc.get("failing", ())),
                   problems=tuple(doc.get("problems", ())), notes=tuple(doc.get("notes", ())))


def _varies(values) -> bool:
    return float(values.std()) > 1e-12 * max(float(abs(values).mean()), 1e-300)


def _finite_or_nan(x) -> float:
    value = float(np.asarray(x))
    return value if math.isfinite(value) else float("nan")
