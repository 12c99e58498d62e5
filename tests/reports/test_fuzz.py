"""Generated junk to every reader and command: random bytes, cut and garbled TOML cards and lab
files, CSV tables with junk cells, garbled spectrum files of every format, junk option values.

Every reader returns or raises the project's NassbError; every command ends with exit code 0, 2
or 3, no traceback, and within a time bound.  The long work behind an accepted input (NUTS, the
risk calibration) is replaced by a stub: what is fuzzed is reading and checking the input."""

from __future__ import annotations

import contextlib
import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nassb.priors.errors import NassbError

from ..conftest import MINIMAL_CARD, REPO

EIS = REPO / "tests" / "data" / "eis"
SPECTRA = sorted(p for p in EIS.iterdir() if p.suffix.lower() in (".csv", ".txt", ".mpt", ".dta", ".z", ".par"))
ARRHENIUS = (REPO / "priors" / "data" / "synthetic" / "nzsp-conductivity.csv").read_text(encoding="utf-8")
LAB = (REPO / "priors" / "examples" / "lab-cells-synthetic.toml").read_text(encoding="utf-8")
SECONDS = 20.0  # each command, on a loaded two-core machine
FUZZ = settings(max_examples=int(os.environ.get("NASSB_FUZZ_EXAMPLES", "15")), deadline=None,
                derandomize="NASSB_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

JUNK_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
JUNK_CELL = st.one_of(JUNK_TEXT, st.sampled_from(["", "nan", "inf", "-inf", "1e999", "-0", "1,5", "0x1F", "١٢",
                                                  "1e-400", "  ", '"', "#", "[", "±", "\x00"]))


class Accepted(Exception):
    """The stub of the long work: the input was read and accepted."""


@pytest.fixture
def stubbed(monkeypatch):
    """NUTS, the impedance fit and the risk calibration stop at once with Accepted."""

    def accept(*args, **kwargs):
        raise Accepted

    monkeypatch.setattr("nassb.inference.sampling.sample", accept)
    monkeypatch.setattr("nassb.inference.eis.api.fit_spectra", accept)
    monkeypatch.setattr("nassb.inference.risk.calibrate.calibrate_risks", accept)


def _command(nassb, *args: str) -> None:
    """One command: exit code 0, 2 or 3 (or Accepted by a stub), no traceback, in time."""
    started = time.monotonic()
    try:
        run = nassb(*args)
    except Accepted:
        return
    except Exception as err:  # noqa: BLE001 - the test is that nothing escapes
        pytest.fail(f"nassb {' '.join(args)[:300]} raised {type(err).__name__}: {err}")
    assert run.code in (0, 2, 3), (args, run.code, run.err)
    assert "Traceback" not in run.err, run.err
    assert time.monotonic() - started < SECONDS, args


def _reader(read, path) -> None:
    """A reader returns or raises NassbError, in time."""
    started = time.monotonic()
    with contextlib.suppress(NassbError):
        read(path)
    assert time.monotonic() - started < SECONDS


@st.composite
def garbled(draw, text: str) -> str:
    """``text`` cut short, with characters replaced, inserted and lines dropped or doubled."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "double", "junk"]))
        if action == "drop":
            del lines[i]
        elif action == "double":
            lines.insert(i, lines[i])
        else:
            lines[i] = draw(JUNK_TEXT) + "\n"
    out = "".join(lines)
    for _ in range(draw(st.integers(0, 4))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        out = out[:i] + draw(st.sampled_from(["", "=", '"', "[", "]", ",", "\n", "±", "e9", "-", "{", "\t"])) \
            + out[i + 1:]
    return out[:draw(st.integers(0, len(out)))] if draw(st.booleans()) else out


@st.composite
def junk_values(draw, text: str, separator: str) -> str:
    """``text`` with a few values (after ``=`` in TOML, between commas in CSV) replaced by junk:
    the file still parses, its values do not."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        candidates = [i for i, line in enumerate(lines) if separator in line and not line.lstrip().startswith("#")]
        if not candidates:
            break
        i = draw(st.sampled_from(candidates))
        parts = lines[i].split(separator)
        k = draw(st.integers(1 if separator == "=" else 0, len(parts) - 1))
        if separator != "=":
            parts[k] = draw(JUNK_CELL)
        else:  # a quoted junk string or any float (TOML reads nan and inf too)
            parts[k] = " " + (json.dumps(draw(JUNK_CELL)) if draw(st.booleans()) else repr(draw(st.floats())))
        lines[i] = separator.join(parts)
    return "\n".join(lines) + "\n"


def _write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), garbled(MINIMAL_CARD), junk_values(MINIMAL_CARD, "=")))
def test_junk_cards(nassb, tmp_path, stubbed, content):
    from nassb.priors import load_card

    path = _write(tmp_path, "card.toml", content)
    _reader(load_card, path)
    _command(nassb, "propagate", str(path))
    _command(nassb, "propagate", str(path), "--method", "mc", "--draws", "200", "--seed", "1")
    _command(nassb, "risk", str(path), "--seed", "1")


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), garbled(LAB), junk_values(LAB, "=")))
def test_junk_lab_observations(nassb, tmp_path, stubbed, content):
    from nassb.priors.lab import load_observed_cells

    path = _write(tmp_path, "lab.toml", content)
    _reader(lambda p: load_observed_cells(p, paper=False), path)
    _command(nassb, "risk-calibrate", "--observations", str(path), "--out", str(tmp_path / "out.nc"))


EXPERIMENTS = ('[[experiment]]\nkind = "critical_current"\ncells = 6\npressure = "300 kPa"\nreservoir = "10 um"\n'
               'name = "CCD at 0.3 MPa"\n[[experiment]]\nkind = "profilometry"\nthicknesses = ["50 um", "0.08 mm"]\n'
               '[[experiment]]\nkind = "biaxial_strength"\ntapes = 3\ncost = { days = 2 }\n')


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), garbled(EXPERIMENTS), junk_values(EXPERIMENTS, "=")))
def test_junk_experiments_files(tmp_path, content):
    from nassb.design.experiment_files import load_experiments

    _reader(load_experiments, _write(tmp_path, "experiments.toml", content))


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), garbled(ARRHENIUS), junk_values(ARRHENIUS, ",")),
       cells=st.lists(JUNK_CELL, min_size=1, max_size=4))
def test_junk_arrhenius_tables(nassb, tmp_path, stubbed, content, cells):
    from nassb.inference.arrhenius import series_from_table
    from nassb.priors.tables import read_table

    if isinstance(content, str):
        content += ",".join(cells) + "\n"
    path = _write(tmp_path, "series.csv", content)
    _reader(lambda p: series_from_table(read_table(p)), path)
    _command(nassb, "fit", "arrhenius", str(path))


@FUZZ
@given(sample=st.sampled_from(SPECTRA), data=st.data())
def test_junk_spectra_of_every_format(nassb, tmp_path, stubbed, sample, data):
    from nassb.inference.eis import read_spectra

    text = sample.read_bytes().decode("latin-1")
    separator = "\t" if "\t" in text else ","
    junk = st.one_of(st.binary(max_size=300), garbled(text), junk_values(text, separator))
    content = data.draw(junk, label="content")
    path = _write(tmp_path, "spectrum" + sample.suffix, content if isinstance(content, bytes)
                  else content.encode("latin-1", errors="replace"))
    _reader(read_spectra, path)
    _command(nassb, "spectra", str(path))
    _command(nassb, "fit", "eis", str(path), "--circuit", "R0-p(R1,C1)")


OPTION_VALUES = st.one_of(JUNK_CELL, st.sampled_from(["30", "30 K", "-300 degC", "1e308 degC", "0.5 mA/cm^2",
                                                      "1 ± 1 cm^2", "R0-p(R1,", "x=y+", "1-3,a", "0", "-1"]))


@FUZZ
@given(value=OPTION_VALUES, which=st.integers(0, 9))
def test_junk_option_values(nassb, tmp_path, stubbed, value, which):
    spectrum = str(EIS / "synthetic_nova.txt")
    commands = [
        ("fit", "arrhenius", str(REPO / "priors" / "data" / "synthetic" / "nzsp-conductivity.csv"), "--at", value),
        ("propagate", "paper-cell-1", "--current", value),
        ("propagate", "paper-cell-1", "--resistance", value, "--current", "0.1"),
        ("risk", "paper-cell-1", "--current", value),
        ("fit", "eis", spectrum, "--circuit", value),
        ("fit", "eis", spectrum, "--circuit", "R0-p(R1,C1)", "--area", value),
        ("fit", "eis", spectrum, "--circuit", "R0-p(R1,C1)", "--derive", value),
        ("fit", "eis", spectrum, "--circuit", "R0-p(R1,C1)", "--temperature", value),
        ("spectra", spectrum, "--cycles", value),
        ("studies", "--storage", value),
    ]
    _command(nassb, *commands[which])
