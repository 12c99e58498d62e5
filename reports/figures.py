"""Figures for reports (matplotlib, headless): labelled axes with units, readable fonts, and the
Okabe-Ito palette, which stays distinct for colour-blind readers.  Each function returns PNG
bytes, so a report can embed them and nothing touches the disk half-written.  Text is drawn as
given, never as mathtext: user names with "$" or "\\" in them are safe."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


# text.parse_math off: titles, labels, legends and ticks carry user text (file names, card and
# material names) that matplotlib would otherwise read as mathtext ("cell$\frac{1}{$.csv" is a
# parse error, "$x$" would render as math).  No figure here uses mathtext.
STYLE: dict[RcKeyType, Any] = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "figure.dpi": 110,
                               "axes.grid": True, "grid.alpha": 0.3, "text.parse_math": False}


class _Canvas:
    """What the drawing functions call: figures made without pyplot (no global backend or
    figure manager is touched, so a notebook keeps its own settings)."""

    @staticmethod
    def subplots(*args, figsize=None, **kwargs):
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        return fig, fig.subplots(*args, **kwargs)


def _pyplot() -> _Canvas:
    return _Canvas()


def _rendered(draw):
    """A drawing function returns PNG bytes, or the matplotlib Figure with ``as_figure=True``
    (what a result's ``plot()`` returns).  It draws in the house style and the Okabe-Ito colours
    without changing the caller's matplotlib settings."""
    import functools

    @functools.wraps(draw)
    def wrapper(*args, as_figure: bool = False, **kwargs):
        import matplotlib
        from cycler import cycler

        style: dict[RcKeyType, Any] = {**STYLE, "axes.prop_cycle": cycler(color=OKABE_ITO)}
        with matplotlib.rc_context(style):  # drawing creates tick labels: render inside the style too
            fig = draw(*args, **kwargs)
            fig.tight_layout()
            return fig if as_figure else _png(fig)

    return wrapper


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@_rendered
def budget_chart(entries: list[dict], quantity: str, unit: str) -> Figure:
    """Horizontal bars: each input's contribution u_i(y) to a quantity's standard uncertainty."""
    plt = _pyplot()
    entries = [e for e in entries if e["share"] > 0][:8][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(entries) + 1.4))
    ax.barh([e["input"] for e in entries], [e["contribution"] for e in entries], color=OKABE_ITO[0])
    for i, e in enumerate(entries):
        ax.text(e["contribution"], i, f" {100 * e['share']:.0f} %", va="center", fontsize=10)
    ax.set_xlabel(f"contribution to u({quantity}) / {unit}")
    ax.set_title(f"Uncertainty budget of {quantity} (first order)")
    ax.set_xlim(0, max(e["contribution"] for e in entries) * 1.2)
    return fig


@_rendered
def densities(draws: dict[str, np.ndarray], gum: dict[str, dict] | None, names: list[str],
              units: dict[str, str]) -> Figure:
    """Monte Carlo densities of the energy densities with the first-order normal beside them."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4))
    for ax, name in zip(np.atleast_1d(axes), names):
        y = np.asarray(draws[name])
        ax.hist(y, bins=120, density=True, color=OKABE_ITO[0], alpha=0.55, label="Monte Carlo")
        if gum is not None:
            mean, sd = gum[name]["mean"], gum[name]["sd"]
            grid = np.linspace(y.min(), y.max(), 300)
            ax.plot(grid, np.exp(-0.5 * ((grid - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), color=OKABE_ITO[1],
                    lw=2, label="first order")
        ax.set_xlabel(f"{name} / {units[name]}")
        ax.set_ylabel(f"density / (1/({units[name]}))")
        ax.legend(fontsize=9)
    return fig


@_rendered
def resistance_bands(temperature_c: np.ndarray, bands: dict[str, np.ndarray], cell_temperature_c: float) -> Figure:
    """Median and 95 % band of area resistances against temperature (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for color, (name, q) in zip(OKABE_ITO, bands.items()):
        ax.fill_between(temperature_c, q[0], q[2], color=color, alpha=0.25)
        ax.plot(temperature_c, q[1], color=color, lw=2, label=f"{name} (median, 95 % band)")
    ax.axvline(cell_temperature_c, color="0.3", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("temperature / °C")
    ax.set_ylabel("area resistance / (Ω cm²)")
    ax.legend(fontsize=9)
    return fig


@_rendered
def arrhenius_plot(temperature_k: np.ndarray, values: np.ndarray, grid_k: np.ndarray, band: np.ndarray,
                   kind: str, unit: str) -> Figure:
    """Data and the posterior band of Eq. 4 against 1000/T."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.fill_between(1000 / grid_k, band[0], band[2], color=OKABE_ITO[0], alpha=0.25, label="95 % band")
    ax.plot(1000 / grid_k, band[1], color=OKABE_ITO[0], lw=2, label="posterior median")
    ax.plot(1000 / temperature_k, values, "o", color=OKABE_ITO[3], label="data")
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T / (1/K)")
    ax.set_ylabel(f"{kind} / ({unit})")
    ax.legend(fontsize=9)
    return fig


@_rendered
def optimisation_history(values: list[float], feasible: list[bool], label: str) -> Figure:
    """Objective per trial (feasible and not) and the running best feasible value."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    x = np.arange(len(values))
    v, f = np.asarray(values, dtype=float), np.asarray(feasible, dtype=bool)
    ax.plot(x[~f], v[~f], "x", color="0.6", ms=4, label="infeasible")
    ax.plot(x[f], v[f], "o", color=OKABE_ITO[0], ms=4, label="feasible")
    best = np.maximum.accumulate(np.where(f, v, -np.inf))
    ax.step(x, np.where(np.isfinite(best), best, np.nan), where="post", color=OKABE_ITO[1], lw=2, label="best feasible")
    ax.set_xlabel("trial")
    ax.set_ylabel(label)
    ax.legend(fontsize=9)
    return fig


@_rendered
def design_map(trials: list[tuple[float, float, bool]], marks: dict[str, tuple[float, float]], xlabel: str,
               ylabel: str) -> Figure:
    """Every trial in (risk, energy) and the paper's cells and roadmap marked on the same axes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    t = np.asarray([(a, b) for a, b, _ in trials]) if trials else np.empty((0, 2))
    feasible = np.asarray([f for *_, f in trials], dtype=bool)
    if len(t):
        ax.plot(t[~feasible, 0], t[~feasible, 1], "x", color="0.6", ms=4, label="infeasible trials")
        ax.plot(t[feasible, 0], t[feasible, 1], "o", color=OKABE_ITO[0], ms=4, label="feasible trials")
    markers = ["s", "D", "^", "v", "P", "*"]
    for (name, (x, y)), marker, color in zip(marks.items(), markers, OKABE_ITO[1:]):
        ax.plot([x], [y], marker, color=color, ms=9, label=name, mec="black")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="best")
    return fig


@_rendered
def importances(values: dict[str, float]) -> Figure:
    """Parameter importances of a study (Optuna's default evaluator)."""
    plt = _pyplot()
    items = sorted(values.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(items) + 1.4))
    ax.barh([k for k, _ in items], [v for _, v in items], color=OKABE_ITO[2])
    ax.set_xlabel("importance for the objective (Optuna, sums to 1)")
    return fig


@_rendered
def nyquist(curves: list[dict], unit: str) -> Figure:
    """Measured points and posterior draws of the fitted circuit, -Z'' against Z' (equal axes).

    Each entry of ``curves``: ``label``, ``z`` (measured, complex), ``draws`` (complex array,
    draws x frequencies of the model on a fine grid).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for color, c in zip(OKABE_ITO, curves):
        for k, line in enumerate(c["draws"]):
            ax.plot(line.real, -line.imag, color=color, lw=0.6, alpha=0.08,
                    label=f"{c['label']}: posterior draws" if k == 0 else None)
        ax.plot(c["z"].real, -c["z"].imag, "o", ms=3.5, mfc="none", color=color, label=f"{c['label']}: data")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"Z' / ({unit})")
    ax.set_ylabel(f"-Z'' / ({unit})")
    ax.legend(fontsize=8)
    return fig


@_rendered
def bode(frequency: np.ndarray, z: np.ndarray, grid: np.ndarray, band: np.ndarray, residuals: np.ndarray,
         unit: str) -> Figure:
    """|Z| and phase against frequency with the posterior's 95 % band, and the relative residuals
    of the posterior median (``band``: 3 x 2 x grid: percentiles of |Z| and of the phase)."""
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(6.5, 7), sharex=True, gridspec_kw={"height_ratios": [3, 3, 2]})
    for ax, k, data, label in ((axes[0], 0, np.abs(z), f"|Z| / ({unit})"),
                               (axes[1], 1, -np.degrees(np.angle(z)), "-phase / °")):
        ax.fill_between(grid, band[0, k], band[2, k], color=OKABE_ITO[0], alpha=0.3, label="95 % band")
        ax.plot(grid, band[1, k], color=OKABE_ITO[0], lw=1.5, label="posterior median")
        ax.plot(frequency, data, "o", ms=3.5, mfc="none", color=OKABE_ITO[3], label="data")
        ax.set_ylabel(label)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    axes[2].plot(frequency, 100 * residuals.real, "o", ms=3, color=OKABE_ITO[2], label="Z'")
    axes[2].plot(frequency, 100 * residuals.imag, "s", ms=3, color=OKABE_ITO[4], label="Z''")
    axes[2].axhline(0, color="0.3", lw=1)
    axes[2].set_ylabel("residual / % of |Z|")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("frequency / Hz")
    axes[2].legend(fontsize=8)
    return fig


@_rendered
def parameter_series(x: np.ndarray, stats: dict[str, np.ndarray], xlabel: str, unit: str) -> Figure:
    """Posterior mean and 95 % interval of parameters against cycle number or temperature
    (``stats[name]``: 3 x points: low, mean, high)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for color, (name, q) in zip(OKABE_ITO, stats.items()):
        ax.fill_between(x, q[0], q[2], color=color, alpha=0.2)
        ax.errorbar(x, q[1], yerr=[q[1] - q[0], q[2] - q[1]], fmt="o-", color=color, ms=4, capsize=3,
                    label=f"{name} (mean, 95 % interval)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"resistance / ({unit})")
    ax.legend(fontsize=8)
    return fig


@_rendered
def histograms(draws: dict[str, np.ndarray], units: dict[str, str], title: str = "") -> Figure:
    """One histogram per quantity (a result's draws), with its 95 % interval marked."""
    plt = _pyplot()
    names = list(draws)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        y = np.asarray(draws[name], dtype=float)
        y = y[np.isfinite(y)]
        ax.hist(y, bins=60, color=OKABE_ITO[0], alpha=0.7)
        if y.size:
            for q in np.quantile(y, [0.025, 0.975]):
                ax.axvline(q, color=OKABE_ITO[3], lw=1, ls="--")
        unit = units.get(name, "")
        ax.set_xlabel(f"{name} / {unit}" if unit else name)
        ax.set_yticks([])
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig
