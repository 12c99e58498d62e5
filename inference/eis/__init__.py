"""Impedance spectra: circuit strings, readers, Kramers-Kronig checks and Bayesian
equivalent-circuit fits whose posterior resistances feed the cell model."""

from .drt_result import DRTResult, fit_drt
from .kk import KKResult, lin_kk
from .readers import FORMATS, SUPPORTED_SUFFIXES, read_spectra
from .select import describe_spectra, select_spectra
from .spectrum import Spectrum

__all__ = ["FORMATS", "SUPPORTED_SUFFIXES", "DRTResult", "KKResult", "Spectrum", "describe_spectra", "fit_drt",
           "lin_kk", "read_spectra", "select_spectra"]
