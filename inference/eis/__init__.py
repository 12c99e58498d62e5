"""Impedance spectra: circuit strings, readers, Kramers-Kronig checks and Bayesian
equivalent-circuit fits whose posterior resistances feed the cell model."""

from .kk import KKResult, lin_kk
from .readers import SUPPORTED_SUFFIXES, read_spectra
from .spectrum import Spectrum

__all__ = ["KKResult", "SUPPORTED_SUFFIXES", "Spectrum", "lin_kk", "read_spectra"]
