"""Utilisation at the cycling current: how much of a cathode's capacity the pore electrolyte can
reach, and the current density a C-rate of that delivered capacity means.

The form (dilute-solution theory, Newman & Thomas-Alyea, *Electrochemical Systems*, 3rd ed.
2004, ch. 11-12; the picture of Doyle & Newman, J. Appl. Electrochem. 27 (1997) 846 and of the
"diffusion-limited C-rate" of Heubner et al., Adv. Energy Mater. 10 (2020) 1902523):

* The liquid fills only the cathode's pores.  Its anions cannot leave them: the ceramic
  separator carries Na+ alone and the current collector blocks everything.  In the steady state
  of a slow discharge (the diffusion time d^2/D_eff is minutes, a discharge hours) the anion flux
  therefore vanishes, migration balances diffusion, and the salt gradient carries the current
  as dc/dx = -i_liquid(x) / (2 F D+_eff).
* With the reaction spread evenly over the thickness d (i_liquid falls linearly from j to 0) and
  the salt conserved (mean c = c0), the salt runs out at the current collector when
  j = j_lim = 12 F D+_eff c0 / d.
* Nernst-Einstein writes D+ from the conductivity and the cation transference number t+,
  D+ = t+ sigma R T / (F^2 c0), so j_lim = 12 t+ (R T / F) / R_ion, with R_ion = d N_M / sigma
  the ionic resistance of the pore liquid (MacMullin number N_M, calibrated), the same one the rate
  model uses.  (The
  Haven ratio of a 1 M electrolyte makes this an underestimate of D+, so j_lim errs low.)
* Above j_lim only a penetration depth d_pen = d j_lim / j is reached: the utilisation is the
  card's (measured at a slow rate, where the seed paper sees no kinetic limits) times
  min(1, j_lim / j).

A C-rate r of the delivered capacity then sets the current per draw:  j0 = r u_card C; where
j0 <= j_lim, j = j0; above it j = r u C with u = u_card j_lim / j, whose solution is
j = sqrt(j0 j_lim).

The cation transference number of the pore liquid is not measured in the seed paper: it is drawn
uniform on :data:`TRANSFERENCE_RANGE` (Na+ in 1 M carbonate electrolytes is reported between
about 0.2 and 0.5).  Units: thickness um, conductivity mS/cm, current density mA/cm^2, areal
capacity mAh/cm^2, resistance ohm cm^2, temperature K.
"""

from __future__ import annotations

import numpy as np

BOLTZMANN_OVER_CHARGE = 8.617333262e-5
"""k_B / e = R / F in V/K (CODATA 2018, exact)."""
TRANSFERENCE_RANGE = (0.2, 0.5)
"""Assumed range (uniform) of the Na+ transference number of the cathode's pore liquid."""
LIMIT_FACTOR = 12.0
"""j_lim = 12 F D+_eff c0 / d: uniform reaction, anions held in the pores (module docstring)."""
# The risk parameters the ionic resistance needs: the rate model's liquid and tortuosity, the
# same calibrated draws as the cell resistance (inference/risk/forms.ionic_resistance).
IONIC_PARAMETERS = ("rate.liquid_conductivity", "rate.macmullin", "rate.bruggeman")


def ionic_resistance(thickness, porosity, liquid_conductivity, macmullin, bruggeman):
    """Area resistance (ohm cm^2) of the pore liquid across a cathode: the rate model's own
    (:func:`nassb.inference.risk.forms.ionic_resistance`), so utilisation and R_cell agree."""
    from ..inference.risk import forms

    return forms.ionic_resistance(thickness, porosity, liquid_conductivity, macmullin, bruggeman)


def limiting_current(r_ion, transference, temperature):
    """Current density (mA/cm^2) at which the pore liquid runs out of salt at the collector:
    j_lim = 12 t+ (k_B T / e) / R_ion, with R_ion in ohm cm^2 and the temperature in K."""
    return LIMIT_FACTOR * transference * BOLTZMANN_OVER_CHARGE * temperature / r_ion * 1e3


def at_rate(capacity, utilisation, j_lim, *, c_rate=None, current=None):
    """The current density and utilisation of a cathode cycled at a C-rate or a fixed current.

    Parameters
    ----------
    capacity : mAh/cm^2
        Theoretical areal capacity (per draw or a number).
    utilisation : 1
        The card's utilisation at a slow rate (per draw or a number).
    j_lim : mA/cm^2
        Limiting current density of the pore liquid, :func:`limiting_current`.
    c_rate : 1/h, optional
        C-rate of the delivered capacity (0.1 is C/10); the current follows per draw.
    current : mA/cm^2, optional
        A fixed current density instead.

    Returns
    -------
    (current, utilisation) : mA/cm^2 and 1, arrays broadcast over the draws.
    """
    if (c_rate is None) == (current is None):
        raise ValueError("give exactly one of c_rate and current")
    if current is not None:
        j = np.broadcast_to(np.asarray(current, dtype=float), np.shape(j_lim))
        return j, utilisation * np.minimum(1.0, j_lim / j)
    j0 = c_rate * utilisation * capacity
    j = np.where(j0 <= j_lim, j0, np.sqrt(j0 * j_lim))
    return j, utilisation * np.minimum(1.0, j_lim / j)


def has_transport(risk) -> bool:
    """Whether the calibrated draws carry the pore liquid's conductivity and tortuosity."""
    return all(name in risk.draws for name in IONIC_PARAMETERS)
