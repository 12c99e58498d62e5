"""PyTensor's compile cache shared by concurrent nassb processes: a command waits long for its
lock (the user's own PYTENSOR_FLAGS kept), and a lock held too long is one line, not a
filelock traceback."""

from __future__ import annotations

from nassb.reports.cli import COMPILE_WAIT_S, pytensor_defaults

from ..conftest import REPO


def test_the_compile_lock_wait_is_raised_unless_the_user_set_it():
    environ: dict[str, str] = {}
    pytensor_defaults(environ)
    assert environ["PYTENSOR_FLAGS"] == f"compile__timeout={COMPILE_WAIT_S}"
    environ = {"PYTENSOR_FLAGS": "compiledir=/tmp/mine"}
    pytensor_defaults(environ)
    assert environ["PYTENSOR_FLAGS"] == f"compiledir=/tmp/mine,compile__timeout={COMPILE_WAIT_S}"
    environ = {"PYTENSOR_FLAGS": "compiledir=/tmp/mine,compile__timeout=5"}
    pytensor_defaults(environ)
    assert environ["PYTENSOR_FLAGS"] == "compiledir=/tmp/mine,compile__timeout=5"


def test_a_compile_lock_held_by_another_process_is_one_line(nassb, tmp_path, monkeypatch):
    # What PyTensor raises when another process holds its cache's lock past compile__timeout.
    from filelock import Timeout

    from nassb.inference import arrhenius

    lock = str(tmp_path / "cache" / ".lock")

    def locked(*args, **kwargs):
        raise Timeout(lock)

    monkeypatch.setattr(arrhenius, "sample", locked, raising=False)
    monkeypatch.setattr("nassb.inference.sampling.sample", locked)
    csv = REPO / "priors" / "data" / "synthetic" / "nzsp-conductivity.csv"
    run = nassb("fit", "arrhenius", str(csv))
    assert run.code == 2 and "Traceback" not in run.err and run.err.count("\n") == 1, run.err
    assert run.err.startswith(f"nassb: PyTensor's compile cache stayed locked by another process ({lock})")
    assert "PYTENSOR_FLAGS=compiledir=DIR" in run.err
