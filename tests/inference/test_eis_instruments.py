"""Instrument formats: Gamry, ZPlot/ZView and Z60W, VersaStudio, Autolab Nova, CH Instruments,
Parstat, PowerSuite and EC-Lab 11.61, and tolerant reading of tables.

The sample files in tests/data/eis are SYNTHETIC (tests/data/eis/README.md): written by
tests/data/eis/make_samples.py in each instrument's layout from known circuits; the generator
also returns what each file should read as.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nassb.inference.eis import read_spectra
from nassb.inference.eis.readers import FORMATS, SUPPORTED_SUFFIXES
from nassb.priors.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "data" / "eis"


def _generator():
    spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLES = _generator()


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """What every instrument sample should read as, from a fresh run of the generator (into a
    temporary folder, so the committed files are compared, not overwritten)."""
    folder = tmp_path_factory.mktemp("samples")
    return folder, SAMPLES.write_all(folder)


def one_line(excinfo, path, field=None) -> str:
    text = str(excinfo.value)
    assert "\n" not in text and text.startswith(str(path)), text
    if field is not None:
        assert excinfo.value.field == field, text
    return text


@pytest.mark.parametrize("name", sorted(SAMPLES.INSTRUMENT_SAMPLES))
def test_each_instrument_sample_reads_to_its_truth(truth, name):
    folder, expected = truth
    spectra, precision = expected[name]
    assert (DATA / name).read_bytes() == (folder / name).read_bytes(), \
        "regenerate: python tests/data/eis/make_samples.py"
    read = read_spectra(DATA / name)
    assert len(read) == len(spectra)
    for got, want in zip(read, spectra):
        np.testing.assert_allclose(got.frequency, want["frequency"], rtol=max(precision, 1e-12))
        assert np.max(np.abs(got.z - want["z"]) / np.abs(want["z"])) < precision, name
        assert got.cycle == want["cycle"]
        assert got.temperature == (pytest.approx(want["temperature"]) if want["temperature"] else None)
        assert got.unit == "ohm"
        assert np.any(got.z.imag < 0)  # capacitive arcs below the axis, as nassb counts Z''


def test_every_sample_is_labelled_synthetic_and_small():
    readme = (DATA / "README.md").read_text()
    assert "SYNTHETIC" in readme
    samples = sorted(p for p in DATA.iterdir() if p.name.startswith("synthetic_"))
    assert len(samples) == 15
    for path in samples:
        text = path.read_bytes().decode("latin-1")
        assert "SYNTHETIC" in text or f"`{path.name}`" in readme, path.name
        assert path.stat().st_size < 20_000
        assert all(15 <= len(s) <= 40 for s in read_spectra(path)), path.name


def test_gamry_table_ends_before_the_aborted_run():
    (spectrum,) = read_spectra(DATA / "synthetic_gamry.DTA")
    assert len(spectrum) == 26  # not the FRACURVE rows after EXPERIMENTABORTED
    assert "TAG: EISPOT" in spectrum.notes and any("SYNTHETIC" in n for n in spectrum.notes)


def test_gamry_with_decimal_commas_and_as_txt(tmp_path):
    text = (DATA / "synthetic_gamry.DTA").read_bytes().decode("latin-1")
    lines = text.split("\r\n")
    start = lines.index("ZCURVE\tTABLE")
    lines[start + 3:start + 29] = [line.replace(".", ",") for line in lines[start + 3:start + 29]]
    path = tmp_path / "comma.dta"
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    (comma,) = read_spectra(path)
    (plain,) = read_spectra(DATA / "synthetic_gamry.DTA")
    np.testing.assert_array_equal(comma.z, plain.z)
    txt = tmp_path / "exported.txt"
    txt.write_bytes((DATA / "synthetic_gamry.DTA").read_bytes())
    np.testing.assert_array_equal(read_spectra(txt)[0].z, plain.z)


def test_two_zcurve_tables_are_two_spectra(tmp_path):
    text = (DATA / "synthetic_gamry.DTA").read_bytes().decode("latin-1")
    head, table = text.split("ZCURVE\tTABLE", 1)
    table = table.split("EXPERIMENTABORTED", 1)[0]
    path = tmp_path / "two.DTA"
    path.write_bytes((head + "ZCURVE\tTABLE" + table + "ZCURVE2\tTABLE" + table).encode("latin-1"))
    first, second = read_spectra(path)
    assert (first.name, second.name) == (f"{path}#1", f"{path}#2")
    np.testing.assert_array_equal(first.z, second.z)


def test_every_instrument_sample_is_recognised_as_txt(tmp_path):
    """A .txt (or .csv) is sniffed by its content: each layout reads the same under that suffix."""
    for name in SAMPLES.INSTRUMENT_SAMPLES:
        copy = tmp_path / (Path(name).stem + ".txt")
        copy.write_bytes((DATA / name).read_bytes())
        ours, theirs = read_spectra(copy), read_spectra(DATA / name)
        assert [len(s) for s in ours] == [len(s) for s in theirs], name
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.z, b.z)


def test_skipped_rows_are_recorded_with_their_lines():
    (parstat,) = read_spectra(DATA / "synthetic_parstat.txt")
    assert parstat.skipped == ((2, "f = 0"), (3, "f = 0"), (4, "f = 0"), (5, "f = 0"))
    cycles = read_spectra(DATA / "synthetic_eclab_v11_61.mpt")
    assert [s.cycle for s in cycles] == [1, 2, 3]
    assert [len(s.skipped) for s in cycles] == [2, 2, 2]  # each rest step goes with the cycle it precedes
    assert cycles[1].skipped[0][0] == 22 + 2 + 18 + 1  # header, cycle 1's rest and sweep, then line 43
    (table,) = read_spectra(DATA / "synthetic_preamble.txt")
    assert table.skipped == ((6, "f = 0"), (7, "f = 0"))
    assert table.temperature == pytest.approx(333.15)
    assert any("SYNTHETIC" in note for note in table.notes)


def test_a_nova_export_splits_where_the_sweep_restarts(tmp_path):
    text = (DATA / "synthetic_nova.txt").read_text(encoding="utf-8")
    header, *rows = text.strip().splitlines()
    path = tmp_path / "two.txt"
    path.write_text("\n".join([header, *rows, *rows]) + "\n", encoding="utf-8")
    first, second = read_spectra(path)
    np.testing.assert_array_equal(first.z, second.z)


# --------------------------------------------------------------------------------------------
# Tolerant tables: text above the header, short rows, Zimg, f = 0, errors that name the column


def test_text_above_the_header_is_kept_as_notes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Impedance export, cell 4\nrun: 2025-01-02, 25 degC bath\n\n"
                    "frequency [Hz],Z' [ohm],Z'' [ohm]\n" + "\n".join(f"{f},{5 + f / 1e4},-{f / 1e3}" for f in
                                                                   (1e4, 1e3, 100, 10, 1)) + "\n")
    (spectrum,) = read_spectra(path)
    assert len(spectrum) == 5 and spectrum.notes[:2] == ("Impedance export, cell 4", "run: 2025-01-02, 25 degC bath")


@pytest.mark.parametrize("name", ["Zimg", "Zimag", "Z_img", "Z_imag", "-Zimg"])
def test_zimg_spellings(tmp_path, name):
    sign = -1 if name.startswith("-") else 1
    path = tmp_path / "z.txt"
    path.write_text(f"Frequency\tZre\t{name}\n"
                    + "".join(f"{f}\t5\t{-sign * f / 1e3}\n" for f in (1e4, 1e3, 100, 10, 1)))
    (spectrum,) = read_spectra(path)
    np.testing.assert_allclose(spectrum.z.imag, -np.array([1e4, 1e3, 100, 10, 1]) / 1e3)


def test_short_rows_read_where_only_unused_columns_are_missing(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("frequency [Hz],Z_real [ohm],Z_imag [ohm],phase [deg],time [s]\n"
                    + "".join(f"{f},5,-1,3\n" for f in (1e4, 1e3, 100, 10)) + "1,5,-1,3,9\n")
    assert len(read_spectra(path)[0]) == 5


@pytest.mark.parametrize("suffix, text, field, words", [
    (".csv", "frequency [Hz],Z_real [ohm],phase [deg],Z_imag [ohm]\n100,5,3,-1\n10,5,3\n", "Z_imag [ohm]",
     "line 3: 3 values for 4 columns, so no value for 'Z_imag [ohm]' (column 4)"),
    (".mpt", "freq/Hz\tRe(Z)/Ohm\t|Z|/Ohm\t-Im(Z)/Ohm\t\n100\t5\t5\t1\n10\t5\t5\n", "-Im(Z)/Ohm",
     "no value for '-Im(Z)/Ohm' (column 4)"),
])
def test_a_row_missing_a_used_column_names_it(tmp_path, suffix, text, field, words):
    path = tmp_path / f"short{suffix}"
    path.write_text(text)
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert words in one_line(excinfo, path, field)


@pytest.mark.parametrize("name, text, field, words", [
    ("prose.txt", "This file holds the notes of run 7.\nNothing was measured: the cell shorted.\n", None,
     "no table found (no header with frequency, Z' and Z'' columns); tried the layouts of EC-Lab, Gamry"),
    ("settings.txt", "Init E (V) = 0\nHigh Frequency (Hz) = 1e+5\nLow Frequency (Hz) = 0.1\n", None,
     "no table found"),
    ("header.txt", "A.C. Impedance\n\nFreq/Hz, Z'/ohm, Z\"/ohm, Z/ohm, Phase/deg\n\n", None,
     "no data rows under the header (line 3)"),
    ("nofreq.txt", "title\nomega;Z';Z''\n1;2;3\n", "frequency", "no frequency column in the header (line 2)"),
    ("noimag.txt", "title\nFrequency (Hz)\tZre (ohms)\tPhase\n1\t2\t3\n", "Z_imag",
     "no Z_imag column in the header (line 2)"),
    ("empty.DTA", "EXPLAIN\nTAG\tEISPOT\n", None, "no ZCURVE table"),
    ("header.DTA", "EXPLAIN\nZCURVE\tTABLE\n\tPt\tFreq\tZreal\tZimag\n\t#\tHz\tohm\tohm\n", None,
     "no data rows under the header (lines 3-4, the ZCURVE table)"),
    ("noimag.DTA", "EXPLAIN\nZCURVE\tTABLE\n\tPt\tFreq\tZreal\tZmod\n\t#\tHz\tohm\tohm\n\t0\t1\t2\t3\n", "Z_imag",
     "no Z_imag column"),
    ("none.z", "ZPLOT2 ASCII\n  Date: 01-02-2025\nEnd Comments\n1\t2\t3\n", None, "no column names"),
    ("header.z", "ZPLOT2 ASCII\nFreq(Hz)\tZ'(a)\tZ''(b)\nEnd Comments\n", None, "no data rows under the header"),
    ("none.par", "<Application>\nName=VersaStudio\n</Application>\n", None, "no impedance segment among 0"),
    ("cv.par", "<Segment1>\nDefinition=Segment #, Point #, E(V), I(A)\n0,0,1,2\n</Segment1>\n", None,
     "no impedance segment among 1 <Segment> block"),
])
def test_files_without_a_usable_table_say_so_in_one_line(tmp_path, name, text, field, words):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert words in one_line(excinfo, path, field)


def test_the_supported_formats_are_named():
    assert SUPPORTED_SUFFIXES[:2] == (".csv", ".txt") and {".dta", ".z", ".par"} <= set(SUPPORTED_SUFFIXES)
    assert len(FORMATS) == 9


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(SAMPLES.INSTRUMENT_SAMPLES)), start=st.floats(0, 1), length=st.integers(0, 400),
       junk=st.binary(max_size=30), suffix=st.sampled_from([".txt", ".csv", ".dta", ".z", ".par", ".mpt"]))
def test_a_damaged_instrument_file_reads_or_gives_one_data_error(tmp_path, name, start, length, junk, suffix):
    """A sample with a piece cut out and junk put in, under any suffix: spectra, or one DataError
    line (pint's own parser errors on odd unit text included)."""
    data = (DATA / name).read_bytes()
    at = int(start * len(data))
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes((data[:at] + junk + data[at + length:]).replace(b"\x00", b""))
    try:
        spectra = read_spectra(path)
    except DataError as err:
        assert "\n" not in str(err) and str(err).startswith(str(path))
    else:
        assert spectra and all(len(s) >= 5 for s in spectra)


# --------------------------------------------------------------------------------------------
# Read time


def test_reading_is_fast(tmp_path):
    """The samples read in milliseconds; a 32-cycle EC-Lab file (1920 rows of 21 columns) in well
    under a second (measured: about 7 ms on a 2-core machine)."""
    path = tmp_path / "cycles.mpt"
    SAMPLES.eclab_cycles_mpt(path, 32)
    read_spectra(path)
    start = time.perf_counter()
    spectra = read_spectra(path)
    elapsed = time.perf_counter() - start
    assert [s.cycle for s in spectra] == list(range(1, 33)) and all(len(s) == 60 for s in spectra)
    assert elapsed < 0.5
    start = time.perf_counter()
    for sample in DATA.glob("synthetic_*"):
        read_spectra(sample)
    assert time.perf_counter() - start < 1.0
