"""Shared helpers: run the command line in-process or as a real process, write cards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nassb.reports.cli import main

REPO = Path(__file__).resolve().parents[1]

# A small complete card built from the built-in materials; tests replace single lines of it.
MINIMAL_CARD = """
[cell]
name = "mini"
voltage = "3.4 V"
temperature = "25 degC"

[anode]
material = "sodium"
reservoir_thickness = "36 ± 5 um"

[separator]
material = "nzsp-tape"
thickness = "50 ± 4 um"

[cathode]
material = "nvp-composite"
electrolyte = "naclo4-ecpc"
thickness = "200 ± 10 um"
porosity = 0.63
theoretical_capacity = "2.52 mAh/cm2"
delivered_capacity = "2.14 mAh/cm2"
"""


class CliRun:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def nassb(capsys):
    """Run ``nassb ARGS...`` in this process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliRun:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse exits on bad options
            code = exit_.code
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def run_process(*args: str, env=None) -> subprocess.CompletedProcess:
    """Run the installed command line as a separate process."""
    return subprocess.run([sys.executable, "-m", "nassb.reports.cli", *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture
def write_card(tmp_path):
    """Write a card (dedented TOML text) to a file and return its path."""

    def write(text: str, name: str = "card.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


# -- slow statistical tests: run in CI (CI=true) or with --run-slow; skipped otherwise ---------

def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (statistical checks; CI always runs them)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("CI") or config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="slow statistical test: run with --run-slow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def evaluate_with_uncertainties(model):
    """The cell equations evaluated on ``uncertainties`` ufloats (one per uncertain input at its
    moments): first-order propagation by an independent package, the anchor for propagate_gum."""
    uncertainties = pytest.importorskip("uncertainties")
    from uncertainties import umath

    class UMath:
        exp = staticmethod(umath.exp)

    x = {}
    for name, prior in model.inputs.items():
        mean, sd = prior.moments()
        x[name] = uncertainties.ufloat(mean, sd, name) if prior.uncertain else mean
    return model.evaluate(x, xp=UMath)


# -- file systems that refuse writes: a full disk and a read-only mount (root only; else skipped)

def _mount(*args: str) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a tmpfs of ``size`` bytes (a disk that fills): ``small_disk(65536)``."""
    mounted: list[Path] = []

    def make(size: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        _unmount(folder)


@pytest.fixture
def read_only_view(tmp_path):
    """A read-only bind mount of a folder: ``read_only_view(folder)`` returns the mounted path."""
    mounted: list[Path] = []

    def make(folder: Path) -> Path:
        view = tmp_path / f"read-only{len(mounted)}"
        view.mkdir()
        _mount("--bind", str(folder), str(view))
        mounted.append(view)
        _mount("-o", "remount,ro,bind", str(view))
        return view

    yield make
    for view in mounted:
        _unmount(view)
