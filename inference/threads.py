"""BLAS on one thread, where the matrices are small.

The fast impedance fits (Laplace, SMC) multiply matrices of about ten columns, the DRT of about
a hundred, by thousands of rows.  OpenBLAS runs those on every core; on a machine whose cores are
busy (a batch fitting spectra in parallel, other jobs) its threads wait on one another: one
vsp_peis_with fit took 78 s wall and 54 s CPU that way against 9 s and 7 s on one thread
(bench/README.md).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS runs on one thread (threadpoolctl, which PyMC brings)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - pymc brings it
        return nullcontext()
    return threadpool_limits(1, user_api="blas")
