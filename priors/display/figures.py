"""Figures for reports and notebooks (matplotlib, headless), typeset as a paper prints them:
axis labels as ``symbol (unit)`` (``$E_{V,\\mathrm{real}}$ (Wh/l)``, ``1000 / T (K⁻¹)``), units
through :func:`~nassb.priors.vocabulary.typeset` (``Ω cm²``, ``µm``, ``°C``), log ticks as
``10²``, the data file's name rather than its path, legends placed off the data, and the
Okabe-Ito palette, which stays distinct for colour-blind readers.

Each drawing function returns the image as bytes (PNG, or SVG inside :func:`figure_format`), so
a report can embed it and nothing touches the disk half-written; ``as_figure=True`` returns the
matplotlib Figure instead (what a result's ``plot()`` returns), which displays itself in Jupyter
(``_repr_png_``) whether or not pyplot was ever imported.

User text (file, card and material names) is drawn as given, never as mathtext: ``text.parse_math``
is off, and only the labels built here (:func:`axis_label`, :func:`symbol`) switch it on for
their own Text, with any ``$`` of a name escaped."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import math
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from ..vocabulary import symbol_parts, typeset

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


STYLE: dict[RcKeyType, Any] = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "figure.dpi": 110,
                               "axes.grid": True, "grid.alpha": 0.3, "text.parse_math": False,
                               "legend.framealpha": 0.85, "mathtext.default": "it", "svg.fonttype": "none"}

_FORMAT: contextvars.ContextVar[str] = contextvars.ContextVar("nassb_figure_format", default="png")


@contextlib.contextmanager
def figure_format(kind: str):
    """Within the block, the drawing functions return ``kind`` (``"png"`` or ``"svg"``: text
    kept as text) instead of PNG bytes."""
    token = _FORMAT.set(kind)
    try:
        yield
    finally:
        _FORMAT.reset(token)


# -- typesetting -------------------------------------------------------------------------------

def _escaped(text: str) -> str:
    """User text made literal inside a Text that parses mathtext."""
    return str(text).replace("$", r"\$")


_MATH: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("nassb_math_texts", default=None)


def math_text(text: str) -> str:
    """Mark ``text`` (built here, user parts passed through :func:`symbol` or escaped) as
    mathtext for the figure being drawn; every other text of the figure stays literal."""
    marked = _MATH.get()
    if marked is not None:
        marked.add(text)
    return text


def symbol(name: str) -> str:
    """An output's symbol as mathtext: ``E_V_real`` -> ``$E_{V,\\mathrm{real}}$``, ``R_separator``
    -> ``$R_\\mathrm{sep}$``; any other name escaped, as given.  For Text with ``parse_math=True``."""
    parts = symbol_parts(name)
    if parts is None:
        return _escaped(name)
    head, subs = parts
    inner = ",".join(p if len(p) == 1 else r"\mathrm{" + p + "}" for p in subs)
    return math_text(f"${head}_{{{inner}}}$")


def axis_label(quantity: str, unit: str = "", *, words: bool = False) -> str:
    """``symbol (unit)`` as a paper labels an axis: ``$E_{V,\\mathrm{real}}$ (Wh/l)``.  With
    ``words`` the quantity is text already (``"temperature"``, ``"1000 / T"``).  The unit may be
    canonical (``ohm*cm^2``) or typeset; it is written through :func:`typeset`."""
    what = _escaped(quantity) if words else symbol(quantity)
    shown = typeset(unit)
    return math_text(f"{what} ({_escaped(shown)})" if shown else what)


def file_label(name: str) -> str:
    """A data file's name without its directories (``na-nzsp-na-30C.csv``, ``file.mpr#2``)."""
    return PurePath(str(name)).name or str(name)


def _superscript(exponent: int) -> str:
    return str(exponent).translate(str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))


def tick_text(value: float, plain: bool = False) -> str:
    """A log-axis tick in plain Unicode: ``10²``, ``10⁻³``, ``200``, ``5×10⁻⁴``; with ``plain``
    (an axis spanning under two decades) ``1``, ``0.5``, ``20`` where the number is short."""  # noqa: RUF002
    if not math.isfinite(value) or value <= 0:
        return ""
    if plain and 1e-3 <= value < 1e5:
        return f"{value:g}"
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = value / 10.0 ** exponent
    if abs(mantissa - round(mantissa)) > 1e-6:
        return f"{value:g}"
    if round(mantissa) == 1:
        return f"10{_superscript(exponent)}"
    if -2 <= exponent <= 3:
        return f"{value:g}"
    return f"{round(mantissa)}\u00d710{_superscript(exponent)}"  # 5 times 10⁻⁴


def _unicode_log_ticks(ax: Axes) -> None:
    """Every log axis of ``ax`` labelled in Unicode (``10²``), never the mathtext matplotlib
    writes by default; minor ticks labelled only where an axis spans less than two decades."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log":
            continue
        low, high = sorted(limits)
        short = low > 0 and math.log10(high / low) < 2
        axis.set_major_formatter(FuncFormatter(lambda v, _pos, plain=short: tick_text(v, plain)))
        axis.set_minor_formatter(FuncFormatter(lambda v, _pos: tick_text(v, True) if round(
            v / 10.0 ** math.floor(math.log10(v) + 1e-9)) in (2, 5) else "") if short else NullFormatter())


def _math_texts(fig: Figure, marked: set[str]) -> None:
    """Texts built by :func:`math_text` (labels, symbols) parse mathtext; every other text of
    the figure (file, card and material names) stays literal."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_text() in marked:
            text.set_parse_math(True)


# -- rendering ---------------------------------------------------------------------------------

@functools.cache
def _figure_class():
    """A matplotlib Figure that shows itself in Jupyter (``_repr_png_``), made without pyplot: no
    global backend or figure manager is touched, so a notebook keeps its own settings."""
    from matplotlib.figure import Figure

    class NassbFigure(Figure):
        def _repr_png_(self) -> bytes:
            return encode(self, "png")

    NassbFigure.__module__ = __name__
    return NassbFigure


class _Canvas:
    """What the drawing functions call in place of pyplot."""

    @staticmethod
    def subplots(*args, figsize=None, **kwargs):
        fig = _figure_class()(figsize=figsize)
        return fig, fig.subplots(*args, **kwargs)


def _pyplot() -> _Canvas:
    return _Canvas()


def _style() -> dict:
    from cycler import cycler

    return {**STYLE, "axes.prop_cycle": cycler(color=OKABE_ITO)}


def _rendered(draw):
    """A drawing function returns image bytes (PNG, or the format of :func:`figure_format`), or
    the Figure with ``as_figure=True``.  It draws in the house style without changing the
    caller's matplotlib settings, log ticks in Unicode and its own labels as mathtext."""

    @functools.wraps(draw)
    def wrapper(*args, as_figure: bool = False, **kwargs):
        import matplotlib

        token = _MATH.set(set())
        try:
            with matplotlib.rc_context(_style()):  # drawing creates tick labels: render inside the style too
                fig = draw(*args, **kwargs)
                for ax in fig.axes:
                    _unicode_log_ticks(ax)
                _math_texts(fig, _MATH.get() or set())
                fig.tight_layout()
                return fig if as_figure else encode(fig, _FORMAT.get())
        finally:
            _MATH.reset(token)

    return wrapper


def encode(fig: Figure, kind: str = "png") -> bytes:
    """A figure as image bytes: ``"png"``, ``"svg"`` (text kept as text) or ``"pdf"``."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(_style()):
        fig.savefig(buffer, format=kind, metadata={"Date": None} if kind == "svg" else None)
    return buffer.getvalue()


def _png(fig: Figure) -> bytes:
    return encode(fig, "png")


def _legend(ax: Axes, **kwargs) -> None:
    """A legend where it covers the fewest data (``best``), half transparent, small."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=8, loc=kwargs.pop("loc", "best"), **kwargs)


@_rendered
def budget_chart(entries: list[dict], quantity: str, unit: str) -> Figure:
    """Horizontal bars: each input's contribution u_i(y) to a quantity's standard uncertainty."""
    plt = _pyplot()
    entries = [e for e in entries if e["share"] > 0][:8][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(entries) + 1.4))
    ax.barh([e["input"] for e in entries], [e["contribution"] for e in entries], color=OKABE_ITO[0])
    for i, e in enumerate(entries):
        ax.text(e["contribution"], i, f" {100 * e['share']:.0f} %", va="center", fontsize=10)
    shown = typeset(unit)
    ax.set_xlabel(math_text(f"contribution to $u$({symbol(quantity)})" + (f" ({_escaped(shown)})" if shown else "")))
    ax.set_title(math_text(f"Uncertainty budget of {symbol(quantity)} (first order)"))
    ax.set_xlim(0, max(e["contribution"] for e in entries) * 1.2)
    ax.grid(axis="y", visible=False)
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
        unit = typeset(units[name])
        ax.set_xlabel(axis_label(name, unit))
        ax.set_ylabel(axis_label("probability density", f"1/({unit})" if unit else "", words=True))
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # headroom: the legend sits above the distribution
        _legend(ax, loc="upper right")
    return fig


@_rendered
def resistance_bands(temperature_c: np.ndarray, bands: dict[str, np.ndarray], cell_temperature_c: float) -> Figure:
    """Median and 95 % band of area resistances against temperature (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for color, (name, q) in zip(OKABE_ITO, bands.items()):
        ax.fill_between(temperature_c, q[0], q[2], color=color, alpha=0.25)
        ax.plot(temperature_c, q[1], color=color, lw=2, label=math_text(f"{symbol(name)}: median, 95 % band"))
    ax.axvline(cell_temperature_c, color="0.3", ls="--", lw=1, label="cell temperature")
    ax.set_yscale("log")
    ax.set_xlabel(axis_label("temperature", "degC", words=True))
    ax.set_ylabel(axis_label("area resistance", "ohm*cm^2", words=True))
    _legend(ax, loc="upper right")  # resistances fall with temperature: the upper right is empty
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
    ax.set_xlabel(math_text(f"1000 / $T$ ({typeset('1/K')})"))
    ax.set_ylabel(axis_label(kind, unit, words=True))
    top = ax.secondary_xaxis("top", functions=(_celsius_of_inverse, _inverse_of_celsius))
    top.set_xlabel(axis_label("temperature", "degC", words=True))
    _legend(ax)
    return fig


def _celsius_of_inverse(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1000.0 / np.asarray(x, dtype=float) - 273.15


def _inverse_of_celsius(c):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1000.0 / (np.asarray(c, dtype=float) + 273.15)


@_rendered
def optimisation_history(values: list[float], feasible: list[bool], quantity: str, unit: str = "",
                         statistic: str = "posterior mean") -> Figure:
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
    ax.set_ylabel(math_text(f"{axis_label(quantity, unit)}, {_escaped(statistic)}"))
    _legend(ax)
    return fig


@_rendered
def design_map(trials: list[tuple[float, float, bool]], marks: dict[str, tuple[float, float]], x: str, y: str,
               x_unit: str = "", y_unit: str = "", statistic: str = "posterior mean") -> Figure:
    """Every trial in (risk, energy) and the paper's cells and roadmap marked on the same axes
    (``x``, ``y``: the quantities, as symbols on the axes)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = np.asarray([(a, b) for a, b, _ in trials]) if trials else np.empty((0, 2))
    feasible = np.asarray([f for *_, f in trials], dtype=bool)
    if len(t):
        ax.plot(t[~feasible, 0], t[~feasible, 1], "x", color="0.6", ms=4, label="infeasible trials")
        ax.plot(t[feasible, 0], t[feasible, 1], "o", color=OKABE_ITO[0], ms=4, label="feasible trials")
    markers = ["s", "D", "^", "v", "P", "*"]
    for (name, (mx, my)), marker, color in zip(marks.items(), markers, OKABE_ITO[1:]):
        ax.plot([mx], [my], marker, color=color, ms=9, label=name, mec="black")
    ax.set_xlabel(math_text(f"{axis_label(x, x_unit)}, {_escaped(statistic)}"))
    ax.set_ylabel(math_text(f"{axis_label(y, y_unit)}, {_escaped(statistic)}"))
    _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)  # beside the data, never on it
    return fig


@_rendered
def importances(values: dict[str, float]) -> Figure:
    """Parameter importances of a study (Optuna's default evaluator)."""
    plt = _pyplot()
    items = sorted(values.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(items) + 1.4))
    ax.barh([k for k, _ in items], [v for _, v in items], color=OKABE_ITO[2])
    ax.set_xlabel("importance for the objective (Optuna, sums to 1)")
    ax.grid(axis="y", visible=False)
    return fig


@_rendered
def nyquist(curves: list[dict], unit: str) -> Figure:
    """Measured points and posterior draws of the fitted circuit, -Z'' against Z' (equal axes).

    Each entry of ``curves``: ``label`` (a file name; drawn without its directories), ``z``
    (measured, complex), ``draws`` (complex array, draws x frequencies of the model on a fine grid).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for color, c in zip(OKABE_ITO, curves):
        label = file_label(c["label"])
        for line in c["draws"]:
            ax.plot(line.real, -line.imag, color=color, lw=0.6, alpha=0.08)
        ax.plot([], [], color=color, lw=1.2, alpha=0.6, label=f"{label}: posterior draws")  # a visible key
        ax.plot(c["z"].real, -c["z"].imag, "o", ms=3.5, mfc="none", color=color, label=f"{label}: data")
    ax.set_aspect("equal", adjustable="datalim")
    shown = _escaped(typeset(unit))
    ax.set_xlabel(math_text(f"$Z'$ ({shown})"))
    ax.set_ylabel(math_text(f"$-Z''$ ({shown})"))
    _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig


@_rendered
def bode(frequency: np.ndarray, z: np.ndarray, grid: np.ndarray, band: np.ndarray, residuals: np.ndarray,
         unit: str) -> Figure:
    """|Z| and phase against frequency with the posterior's 95 % band, and the relative residuals
    of the posterior median (``band``: 3 x 2 x grid: percentiles of |Z| and of the phase)."""
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(6.5, 7), sharex=True, gridspec_kw={"height_ratios": [3, 3, 2]})
    shown = _escaped(typeset(unit))
    for ax, k, data, label in ((axes[0], 0, np.abs(z), f"$|Z|$ ({shown})"),
                               (axes[1], 1, -np.degrees(np.angle(z)), r"$-\varphi$ (°)")):
        ax.fill_between(grid, band[0, k], band[2, k], color=OKABE_ITO[0], alpha=0.3, label="95 % band")
        ax.plot(grid, band[1, k], color=OKABE_ITO[0], lw=1.5, label="posterior median")
        ax.plot(frequency, data, "o", ms=3.5, mfc="none", color=OKABE_ITO[3], label="data")
        ax.set_ylabel(math_text(label))
    axes[0].set_yscale("log")
    _legend(axes[0], loc="upper right")  # |Z| falls with frequency
    axes[2].plot(frequency, 100 * residuals.real, "o", ms=3, color=OKABE_ITO[2], label="$Z'$")
    axes[2].plot(frequency, 100 * residuals.imag, "s", ms=3, color=OKABE_ITO[4], label="$Z''$")
    math_text("$Z'$")
    math_text("$Z''$")
    axes[2].axhline(0, color="0.3", lw=1)
    axes[2].set_ylabel(math_text("residual (% of $|Z|$)"))
    axes[2].set_xscale("log")
    axes[2].set_xlabel(math_text("frequency $f$ (Hz)"))
    _legend(axes[2], ncols=2)
    return fig


@_rendered
def parameter_series(x: np.ndarray, stats: dict[str, np.ndarray], xlabel: str, unit: str) -> Figure:
    """Posterior mean and 95 % interval of parameters against cycle number or temperature
    (``stats[name]``: 3 x points: low, mean, high; ``xlabel``: words, drawn as given)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for color, (name, q) in zip(OKABE_ITO, stats.items()):
        ax.fill_between(x, q[0], q[2], color=color, alpha=0.2)
        ax.errorbar(x, q[1], yerr=[q[1] - q[0], q[2] - q[1]], fmt="o-", color=color, ms=4, capsize=3,
                    label=math_text(f"{symbol(name)}: mean, 95 % interval"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(axis_label("area resistance" if "cm" in typeset(unit) else "resistance", unit, words=True))
    _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
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
        ax.set_xlabel(axis_label(name, units.get(name, "")))
        ax.set_yticks([])
        ax.grid(visible=False)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


@_rendered
def parameter_rounds(posteriors: list[dict], names: list[str]) -> Figure:
    """Every risk parameter in one panel: its posterior mean and 95 % interval after each
    recalibration, shifted by the paper's posterior mean and scaled by its 95 % half-width, so
    that parameters of any unit share one axis (narrower: learned; moved: the data disagree)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(names) * max(1, min(len(posteriors), 3)) + 1.6))
    offsets = np.linspace(-0.25, 0.25, len(posteriors)) if len(posteriors) > 1 else np.zeros(1)
    for k, (posterior, offset) in enumerate(zip(posteriors, offsets)):
        xs, ys, lo, hi = [], [], [], []
        for i, name in enumerate(names):
            first, q = posteriors[0]["parameters"].get(name), posterior["parameters"].get(name)
            centre0 = _centre(first)
            centre = _centre(q)
            if first is None or q is None or centre0 is None or centre is None:
                continue
            half = (first["ci95"][1] - first["ci95"][0]) / 2 or 1.0
            xs.append((centre - centre0) / half)
            ys.append(len(names) - 1 - i + offset)
            lo.append((centre - q["ci95"][0]) / half)
            hi.append((q["ci95"][1] - centre) / half)
        label = "the paper's posterior" if k == 0 else f"after recalibration {posterior.get('index', k)}"
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", ms=4, capsize=2, color=OKABE_ITO[k % len(OKABE_ITO)],
                    label=label)
    ax.set_yticks(np.arange(len(names))[::-1], names, fontsize=8)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_xlabel(math_text(r"($\theta - \theta_0$) / half-width of the paper's 95 % interval"))
    ax.grid(axis="y", visible=False)
    _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig


def _centre(q: dict | None) -> float | None:
    """A parameter's posterior mean, or its median where the mean is not defined."""
    if q is None:
        return None
    value = q.get("mean") if q.get("mean") is not None else q.get("median")
    return None if value is None or not math.isfinite(value) else float(value)
