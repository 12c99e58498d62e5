"""Impedance spectra: circuit strings, readers, Kramers-Kronig checks and Bayesian
equivalent-circuit fits whose posterior resistances feed the cell model."""

from .kk import KKResult, lin_kk
from .readers import FORMATS, SUPPORTED_SUFFIXES, read_spectra
from .select import describe_spectra, select_spectra
from .spectrum import Spectrum

__all__ = ["FORMATS", "SUPPORTED_SUFFIXES", "KKResult", "Spectrum", "describe_spectra", "lin_kk", "read_spectra",
           "select_spectra"]
