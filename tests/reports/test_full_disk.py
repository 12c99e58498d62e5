"""A disk that fills while a result is written: one line "no space left on device" (exit 2),
nothing half-written, and no HDF5 errors or crash (HDF5 writing straight to the full disk left
objects that failed again when collected, then a segmentation fault at exit).  The disks are
small tmpfs mounts (root only; skipped elsewhere)."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from ..conftest import REPO, run_process

SPECTRUM = REPO / "priors" / "data" / "synthetic" / "eis" / "na-nzsp-na-30C.csv"
FIG5 = "R_A-p(R_B,CPE_B)-p(R_C,CPE_C)"


def _one_line(run, out) -> None:
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert run.stderr == f"nassb: --out: no space left on device: cannot write {str(out)!r}\n", run.stderr


def test_fit_eis_out_on_a_nearly_full_disk_is_one_line_and_writes_nothing(small_disk):
    disk = small_disk(100 * 1024)  # the summary fits, the draws (about 280 kB) do not
    run = run_process("fit", "eis", str(SPECTRUM), "--circuit", FIG5, "--seed", "1",
                      "--out", str(disk / "fit"))
    _one_line(run, disk / "fit")
    assert list(disk.iterdir()) == []


def test_a_report_on_a_full_disk_is_one_line_and_writes_nothing(small_disk):
    disk = small_disk(64 * 1024)
    run = run_process("report", "paper-cell-1", "--out", str(disk / "report"))
    _one_line(run, disk / "report")
    assert list(disk.iterdir()) == []


def test_a_netcdf_file_that_does_not_fit_raises_one_oserror_and_leaves_nothing(small_disk):
    import arviz

    from nassb.inference.result import Result

    class Draws(Result):  # SYNTHETIC draws, large enough not to fit
        kind = "draws"

        def __init__(self):
            rng = np.random.default_rng(1)
            self.idata = arviz.from_dict(posterior={"x": rng.normal(size=(2, 20_000))})
            self.diagnostics = None

        def to_json(self):
            return {}

    disk = small_disk(64 * 1024)
    with pytest.raises(OSError) as raised:
        Draws().to_netcdf(disk / "draws.nc")
    assert raised.value.errno == errno.ENOSPC
    assert list(disk.iterdir()) == []
