"""Impedance spectra: circuit strings, readers, Kramers-Kronig checks and Bayesian
equivalent-circuit fits whose posterior resistances feed the cell model."""

from .spectrum import Spectrum

__all__ = ["Spectrum"]
