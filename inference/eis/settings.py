"""How to fit impedance spectra (:func:`nassb.inference.eis.fit.fit_spectra`): the settings a fit
is made with and keeps, so that a loaded fit reports as the fit did."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sampling import SamplerSettings

TARGET_ACCEPT = 0.95  # the curved ridges of arcs near the window edge diverge at 0.9
METHODS = ("auto", "laplace", "smc", "nuts")


@dataclass(frozen=True)
class EISSettings:
    """How to fit.

    Attributes
    ----------
    sampler : SamplerSettings
        NUTS settings (target acceptance raised to 0.95 unless set higher); ``chains * draws``
        is also the number of draws an importance-sampled posterior keeps, and ``progress``
        shows a bar over the spectra of a batch (and NUTS's own for one spectrum).
    area : float, optional
        Electrode area in cm^2: report resistances in ohm cm^2 (and Q, C per cm^2).
    derive : tuple of str
        ``NAME=EXPR`` quantities computed on every draw.
    arrhenius : tuple of str
        Joint fit: the resistances that follow Eq. 4 across the spectra's temperatures.
    reference_temperature : float
        K; where a joint fit reports R_ref (default 30 degC, the paper's).
    kk : bool
        Run the lin-KK check before fitting.
    method : str
        ``"auto"`` (Laplace + PSIS where its diagnostics accept it, else tempered SMC; never NUTS),
        ``"laplace"`` (Laplace + PSIS), ``"smc"`` (tempered SMC) or ``"nuts"``, for every
        spectrum; one whose diagnostics refuse its method fails the gate, and says which.
    """

    sampler: SamplerSettings = field(default_factory=lambda: SamplerSettings(target_accept=TARGET_ACCEPT))
    area: float | None = None
    derive: tuple[str, ...] = ()
    arrhenius: tuple[str, ...] = ()
    reference_temperature: float = 303.15
    kk: bool = True
    method: str = "auto"
