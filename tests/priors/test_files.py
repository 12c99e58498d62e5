"""Result folders: written whole, never over a folder nassb did not write, repaired after a
kill, and a full disk said in one line."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys

import pytest

from nassb.priors.errors import OutputError
from nassb.priors.files import MARKER, check_folder, is_nassb_folder, output_error, tidy_folder, write_folder


def _contents(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_is_written_with_its_marker_and_replaced_as_a_whole(tmp_path):
    out = tmp_path / "run"
    write_folder(out, {"summary.json": "{}\n", "sub/data.bin": b"\x00\x01",
                       "result.nc": lambda path: path.write_bytes(b"netcdf")})
    assert _contents(out).keys() == {MARKER, "summary.json", "sub/data.bin", "result.nc"}
    assert is_nassb_folder(out)
    write_folder(out, {"summary.json": "{\"second\": 1}\n"})
    assert _contents(out).keys() == {MARKER, "summary.json"}  # the old files went with the old folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_folder_nassb_did_not_write_is_refused_and_untouched(tmp_path):
    own = tmp_path / "thesis"
    own.mkdir()
    (own / "thesis.tex").write_text("precious")
    for call in (lambda: write_folder(own, {"summary.json": "{}"}), lambda: check_folder(own)):
        with pytest.raises(OutputError, match="not an nassb result directory"):
            call()
    assert _contents(own) == {"thesis.tex": b"precious"}
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        check_folder(tmp_path / "file")
    check_folder(tmp_path / "new" / "deeper")  # new folders are fine
    empty = tmp_path / "empty"
    empty.mkdir()
    check_folder(empty)


def test_a_failed_write_leaves_the_previous_folder_and_no_staging(tmp_path):
    out = tmp_path / "run"
    write_folder(out, {"a.txt": "first"})
    before = _contents(out)

    def fail(path):
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(OutputError, match="Input/output error"):
        write_folder(out, {"a.txt": "second", "b.nc": fail})
    assert _contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    # what h5py raises: HDF5's own lines first, the system's message buried inside
    OSError("Unable to synchronously create file (file write failed: time = Mon Jan  1 00:00:00 2024\n"
            ", filename = 'x.nc', file descriptor = 5, errno = 28, error message = 'No space left on device', "
            "buf = 0x1, total write size = 96, bytes this sub-write = 96, bytes actually written = "
            "18446744073709551615, offset = 0)"),
])
def test_a_full_disk_is_one_line_that_says_so_first(tmp_path, error):
    def full(path):
        raise error

    with pytest.raises(OutputError) as caught:
        write_folder(tmp_path / "run", {"result.nc": full})
    text = str(caught.value)
    assert text.startswith("no space left on device") and "\n" not in text and "HDF5" not in text
    assert not (tmp_path / "run").exists() and list(tmp_path.iterdir()) == []
    assert str(output_error(OSError(errno.EACCES, "Permission denied"), "x")) == "cannot write 'x': Permission denied"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _staging(tmp_path, name: str, pid: int, host: str | None = None):
    folder = tmp_path / name
    folder.mkdir()
    (folder / MARKER).write_text(f"written by nassb\npid={pid} host={host or socket.gethostname()}\n")
    (folder / "result.nc").write_bytes(b"half")
    return folder


def test_an_interrupted_swap_is_restored(tmp_path):
    out = tmp_path / "run"
    write_folder(out, {"a.txt": "previous"})
    before = _contents(out)
    os.replace(out, tmp_path / ".run.old-abc123")  # killed between the swap's two renames
    tidy_folder(out)
    assert _contents(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_run_restores_an_interrupted_swap_before_writing(tmp_path):
    out = tmp_path / "run"
    write_folder(out, {"a.txt": "previous"})
    os.replace(out, tmp_path / ".run.old-abc123")
    write_folder(out, {"a.txt": "next"})
    assert (out / "a.txt").read_text() == "next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_stale_staging_of_dead_runs_is_removed_and_nothing_else(tmp_path):
    out = tmp_path / "run"
    dead = _staging(tmp_path, ".run.new-dead1", _dead_pid())
    alive = _staging(tmp_path, ".run.new-alive", os.getppid())         # a live process's: kept
    elsewhere = _staging(tmp_path, ".run.new-other", 1, host="another-machine")  # fresh, another host's: kept
    foreign = tmp_path / ".run.new-foreign"                              # no marker: not ours
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    leftover_old = _staging(tmp_path, ".run.old-left", _dead_pid())
    write_folder(out, {"a.txt": "new"})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not dead.exists() and not leftover_old.exists()
    assert names == sorted(["run", alive.name, elsewhere.name, foreign.name])


def test_a_foreign_old_folder_is_not_restored(tmp_path):
    out = tmp_path / "run"
    stranger = tmp_path / ".run.old-x"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    tidy_folder(out)
    assert not out.exists() and (stranger / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("reader", ["observations", "experiments", "risk priors"])
def test_every_toml_reader_takes_a_byte_order_mark_and_refuses_a_folder_in_one_line(tmp_path, reader):
    from nassb.design.experiment_files import load_experiments
    from nassb.priors.errors import CardError
    from nassb.priors.lab import load_observed_cells
    from nassb.priors.risk import load_risk_priors

    read = {"observations": load_observed_cells, "experiments": load_experiments,
            "risk priors": load_risk_priors}[reader]
    with pytest.raises(CardError, match="is a directory") as folder:
        read(tmp_path)
    assert str(tmp_path) in str(folder.value)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xef\xbb\xbf[unclosed")          # a BOM, then broken TOML
    with pytest.raises(CardError, match="not valid TOML") as broken:
        read(bad)
    assert "bad.toml" in str(broken.value) and "\ufeff" not in str(broken.value)


def test_an_experiments_file_saved_with_a_byte_order_mark_reads(tmp_path):
    from nassb.design.experiment_files import load_experiments

    path = tmp_path / "mine.toml"
    path.write_bytes('\ufeff[[experiment]]\nkind = "biaxial_strength"\ntapes = 12\n'.encode())
    (spec,) = load_experiments(path)
    assert spec.kind == "biaxial_strength" and spec.settings["tapes"] == 12
