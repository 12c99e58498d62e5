"""Impedance spectrum readers (CSV, EC-Lab .mpt/.mpr) and the lin-KK test.

The sample files in tests/data/eis are SYNTHETIC: written by tests/data/eis/make_samples.py from
the circuits below, whose parameters their comments repeat.
"""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nassb.inference.eis import Spectrum, lin_kk, read_spectra
from nassb.inference.eis.kk import MAX_LIMIT, RMS_LIMIT, SYSTEMATIC_LIMIT
from nassb.priors.errors import DataError, OptionError

from ..conftest import REPO

DATA = Path(__file__).resolve().parents[1] / "data" / "eis"


def rc_series(frequency, r0, *arcs):
    """R0 - p(R1,C1) - p(R2,C2) - ...  (Z'' < 0 on the arcs)."""
    omega = 2 * np.pi * np.asarray(frequency, dtype=float)
    z = np.full(omega.shape, r0, dtype=complex)
    for r, c in arcs:
        z += r / (1 + 1j * omega * r * c)
    return z


def two_cpe(frequency, *, drift=0.0, noise=0.0, seed=0):
    """R0-p(R1,CPE1)-p(R2,CPE2) measured from the first frequency to the last; R1 may grow
    linearly by ``drift`` (a fraction) over the sweep, and Gaussian noise of ``noise`` x |Z| may be
    added to Z' and to Z''."""
    omega = 2 * np.pi * frequency
    r1 = 100.0 * (1 + drift * np.linspace(0, 1, frequency.size))
    z = 10.0 + 1 / (1 / r1 + 2e-7 * (1j * omega) ** 0.9) + 1 / (1 / 200.0 + 1e-4 * (1j * omega) ** 0.8)
    rng = np.random.default_rng(seed)
    return z + noise * np.abs(z) * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))


SWEEP = np.geomspace(1e6, 1, 60)  # 60 points, 1 MHz to 1 Hz, high to low as measured


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(frequency, z, header="frequency [Hz],Z_real [ohm],Z_imag [ohm]", comments=()):
    lines = [f"# {c}" for c in comments] + [header]
    lines += [f"{f:.12g},{v.real:.12g},{v.imag:.12g}" for f, v in zip(frequency, z)]
    return "\n".join(lines) + "\n"


F8 = np.geomspace(1e4, 1, 8)
Z8 = rc_series(F8, 5.0, (50.0, 1e-5))


def one_line_error(excinfo, path, field=None):
    """The error is a single line that starts with the file and names the field."""
    text = str(excinfo.value)
    assert "\n" not in text
    assert text.startswith(str(path)), text
    if field is not None:
        assert excinfo.value.field == field, text
        assert f": {field}: " in text, text
    return text


# --------------------------------------------------------------------------------------------
# The sample files


def test_bracket_headers_kilohertz_and_minus_im_column():
    path = DATA / "synthetic_brackets.csv"
    (spectrum,) = read_spectra(path)
    expected_f = np.geomspace(1e6, 10, 30)
    np.testing.assert_allclose(spectrum.frequency, expected_f, rtol=1e-9)
    np.testing.assert_allclose(spectrum.z, rc_series(expected_f, 12.0, (150.0, 2e-8)), rtol=1e-8)
    assert np.all(spectrum.z.imag < 0)  # the file's -Im(Z) column was negated
    assert (spectrum.name, spectrum.source, spectrum.unit) == (str(path), str(path), "ohm")
    assert spectrum.temperature is None and spectrum.cycle is None
    assert any("SYNTHETIC" in note for note in spectrum.notes)


def test_suffixed_names_and_temperature_comment():
    (spectrum,) = read_spectra(DATA / "synthetic_suffix_30C.csv")
    expected_f = np.geomspace(1e5, 0.1, 25)
    np.testing.assert_allclose(spectrum.frequency, expected_f, rtol=1e-9)
    np.testing.assert_allclose(spectrum.z, rc_series(expected_f, 8.0, (60.0, 1e-6)), rtol=1e-8)
    assert spectrum.temperature == pytest.approx(303.15)
    assert np.all(spectrum.z.imag < 0)
    assert len(spectrum) == 25


def test_area_normalised_spectrum_and_cycle_comment():
    (spectrum,) = read_spectra(DATA / "synthetic_area_ohm_cm2.csv")
    expected_f = np.geomspace(1e5, 1, 20)
    assert spectrum.unit == "ohm*cm^2"
    assert spectrum.cycle == 3
    np.testing.assert_allclose(spectrum.z, rc_series(expected_f, 2.0, (40.0, 5e-6)), rtol=1e-8)


def test_eclab_mpt_with_two_cycles():
    path = DATA / "synthetic_two_cycles.mpt"
    assert "µF".encode("latin-1") in path.read_bytes()  # a latin-1 file, as EC-Lab writes it
    first, second = read_spectra(path)
    expected_f = np.geomspace(1e6, 1, 20)
    assert (first.name, second.name) == (f"{path}#1", f"{path}#2")
    assert (first.cycle, second.cycle) == (1, 2)
    assert first.temperature == second.temperature == pytest.approx(303.15)
    for spectrum in (first, second):
        np.testing.assert_allclose(spectrum.frequency, expected_f, rtol=1e-7)
        assert np.all(spectrum.z.imag < 0)
        assert any("SYNTHETIC" in note for note in spectrum.notes)
    np.testing.assert_allclose(first.z, rc_series(expected_f, 10.0, (100.0, 1e-7), (300.0, 1e-4)), rtol=1e-7)
    np.testing.assert_allclose(second.z, rc_series(expected_f, 10.0, (110.0, 1e-7), (330.0, 1e-4)), rtol=1e-7)


def test_eclab_mpt_with_decimal_commas():
    (spectrum,) = read_spectra(DATA / "synthetic_comma_decimal.mpt")
    expected_f = np.geomspace(2e5, 0.5, 25)
    np.testing.assert_allclose(spectrum.frequency, expected_f, rtol=1e-7)
    np.testing.assert_allclose(spectrum.z, rc_series(expected_f, 5.0, (80.0, 3e-7)), rtol=1e-7)
    assert spectrum.cycle == 1 and spectrum.temperature is None


def test_sample_files_are_small_and_say_they_are_synthetic():
    samples = sorted(p for p in DATA.iterdir() if p.suffix in (".csv", ".mpt"))
    assert len(samples) == 6
    for path in samples:
        assert "SYNTHETIC" in path.read_text("latin-1")
        assert all(18 <= len(s) <= 30 for s in read_spectra(path))


def test_label_names_the_spectra(tmp_path):
    path = write(tmp_path, "a.csv", csv_text(F8, Z8))
    (spectrum,) = read_spectra(path, label="cell A")
    assert (spectrum.name, spectrum.source) == ("cell A", "cell A")
    first, _ = read_spectra(DATA / "synthetic_two_cycles.mpt", label="run 7")
    assert first.name == "run 7#1"


# --------------------------------------------------------------------------------------------
# Headers, units and sign conventions


@pytest.mark.parametrize("header, roles, f_factor, z_factor, negate", [
    ("frequency [kHz],Z_real [kohm],Z_imag [kohm]", "f re im", 1e3, 1e3, False),
    ("frequency [Hz],Z_real [mohm],-Z_imag [mohm]", "f re im", 1.0, 1e-3, True),
    ("freq,Z',Z''", "f re im", 1.0, 1.0, False),
    ("f,Re(Z),-Im(Z)", "f re im", 1.0, 1.0, True),
    ("F,REAL,IMAG", "f re im", 1.0, 1.0, False),
    ("Frequency (Hz),Zre (Ohm),minus_z_imag (Ohm)", "f re im", 1.0, 1.0, True),
    ("f_kHz,zreal_ohm,minus_z_imag_ohm", "f re im", 1e3, 1.0, True),
    ("Z_imag,frequency,zre", "im f re", 1.0, 1.0, False),
    ("freq/Hz,Re(Z)/Ohm,-Z''", "f re im", 1.0, 1.0, True),
    ("|Z| [ohm],frequency [MHz],Z_real [ohm],Z_imag [ohm],phase [deg]", "- f re im -", 1e6, 1.0, False),
])
def test_column_aliases_units_and_signs(tmp_path, header, roles, f_factor, z_factor, negate):
    rows = []
    for f, z in zip(F8, Z8):
        values = {"f": f / f_factor, "re": z.real / z_factor, "im": (-z.imag if negate else z.imag) / z_factor,
                  "-": 1.5}
        rows.append(",".join(f"{values[role]:.12g}" for role in roles.split()))
    path = write(tmp_path, "s.csv", header + "\n" + "\n".join(rows) + "\n")
    (spectrum,) = read_spectra(path)
    np.testing.assert_allclose(spectrum.frequency, F8, rtol=1e-10)
    np.testing.assert_allclose(spectrum.z, Z8, rtol=1e-10)
    assert spectrum.unit == "ohm"


def test_ohm_square_metre_is_converted_to_ohm_square_centimetre(tmp_path):
    path = write(tmp_path, "a.csv", csv_text(F8, Z8 * 1e-4, "frequency [Hz],Z_real [ohm*m^2],Z_imag [Ω·m²]"))
    (spectrum,) = read_spectra(path)
    assert spectrum.unit == "ohm*cm^2"
    np.testing.assert_allclose(spectrum.z, Z8, rtol=1e-10)


def test_headerless_three_columns_as_impedance_py_writes_them(tmp_path):
    text = "\n".join(f"{f:.17g},{z.real:.17g},{z.imag:.17g}" for f, z in zip(F8, Z8)) + "\n"
    (spectrum,) = read_spectra(write(tmp_path, "plain.TXT", text))
    np.testing.assert_allclose(spectrum.z, Z8, rtol=1e-12)
    assert np.all(spectrum.z.imag < 0)


def test_tab_and_semicolon_tables_with_decimal_commas(tmp_path):
    for delimiter in ("\t", ";"):
        rows = [delimiter.join(f"{v:.10g}".replace(".", ",") for v in (f, z.real, z.imag)) for f, z in zip(F8, Z8)]
        text = delimiter.join(["frequency [Hz]", "Z_real [ohm]", "Z_imag [ohm]"]) + "\n" + "\n".join(rows)
        (spectrum,) = read_spectra(write(tmp_path, "t.txt", text))
        np.testing.assert_allclose(spectrum.z, Z8, rtol=1e-9)


def test_temperature_column_that_varies_splits_the_file(tmp_path):
    lines = ["temperature [degC],frequency [Hz],Z_real [ohm],Z_imag [ohm]"]
    for celsius, r1 in ((40, 30.0), (25, 50.0)):
        lines += [f"{celsius},{f:.17g},{z.real:.17g},{z.imag:.17g}" for f, z in zip(F8, rc_series(F8, 5.0, (r1, 1e-5)))]
    path = write(tmp_path, "arrhenius.csv", "\n".join(lines))
    hot, cold = read_spectra(path)
    assert (hot.name, cold.name) == (f"{path}#1", f"{path}#2")
    assert hot.temperature == pytest.approx(313.15) and cold.temperature == pytest.approx(298.15)
    np.testing.assert_allclose(cold.z, rc_series(F8, 5.0, (50.0, 1e-5)), rtol=1e-12)


def test_cycle_column_groups_by_value_in_file_order(tmp_path):
    lines = ["cycle,frequency [Hz],Z_real [ohm],Z_imag [ohm]"]
    for f, z in zip(F8, Z8):
        lines.append(f"7,{f:.17g},{z.real:.17g},{z.imag:.17g}")
        lines.append(f"3,{f:.17g},{z.real * 2:.17g},{z.imag * 2:.17g}")
    seven, three = read_spectra(write(tmp_path, "c.csv", "\n".join(lines)))
    assert (seven.cycle, three.cycle) == (7, 3)
    np.testing.assert_allclose(three.z, 2 * Z8)


def test_constant_temperature_column_gives_one_spectrum(tmp_path):
    lines = ["frequency [Hz],Z_real [ohm],Z_imag [ohm],temperature [K]"]
    lines += [f"{f:.17g},{z.real:.17g},{z.imag:.17g},330" for f, z in zip(F8, Z8)]
    (spectrum,) = read_spectra(write(tmp_path, "k.csv", "\n".join(lines)))
    assert spectrum.temperature == 330.0


def mpt_text(rows, columns=("freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "cycle number"), header_lines=(), count=None):
    header = ["EC-Lab ASCII FILE", f"Nb header lines : {count or len(header_lines) + 4}", "", *header_lines,
              "\t".join(columns) + "\t"]
    return "\r\n".join(header + ["\t".join(f"{v:.7E}" for v in row) + "\t" for row in rows]) + "\r\n"


def test_eclab_sweep_restart_splits_without_cycle_column(tmp_path):
    rows = [(f, z.real, -z.imag, 1.0) for f, z in zip(F8, Z8)] * 3
    spectra = read_spectra(write(tmp_path, "r.mpt", mpt_text(rows), "latin-1"))
    assert [s.name.rsplit("#", 1)[1] for s in spectra] == ["1", "2", "3"]
    assert all(s.cycle == 1 for s in spectra)
    # a sweep from low to high frequency restarts when the frequency falls
    rows = [(f, z.real, -z.imag, 1.0) for f, z in zip(F8[::-1], Z8[::-1])] * 2
    assert len(read_spectra(write(tmp_path, "up.mpt", mpt_text(rows), "latin-1"))) == 2


def test_eclab_z_cycle_column_and_idle_rows(tmp_path):
    rows = [(0.0, 0.0, 0.0, 1.0)] * 3  # an OCV step of a modular technique: no impedance
    rows += [(f, z.real, -z.imag, k) for k in (1.0, 2.0) for f, z in zip(F8[:5], Z8[:5])]
    columns = ("freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "z cycle")
    spectra = read_spectra(write(tmp_path, "z.mpt", mpt_text(rows, columns), "latin-1"))
    assert [len(s) for s in spectra] == [5, 5]
    assert [s.cycle for s in spectra] == [1, 2]


def test_eclab_cycle_change_splits_a_continuing_sweep(tmp_path):
    f = np.geomspace(1e5, 1, 10)
    z = rc_series(f, 5.0, (50.0, 1e-5))
    rows = [(fi, zi.real, -zi.imag, 4.0 if i < 5 else 5.0) for i, (fi, zi) in enumerate(zip(f, z))]
    first, second = read_spectra(write(tmp_path, "c.mpt", mpt_text(rows), "latin-1"))
    assert (first.cycle, second.cycle) == (4, 5)
    np.testing.assert_allclose(second.frequency, f[5:], rtol=1e-7)


def test_eclab_without_header_block_and_as_txt(tmp_path):
    rows = [(f, z.real, -z.imag, 1.0) for f, z in zip(F8, Z8)]
    body = mpt_text(rows).split("\r\n", 3)[3]  # column names first, as "export without header" writes
    (spectrum,) = read_spectra(write(tmp_path, "bare.mpt", body))
    np.testing.assert_allclose(spectrum.z, Z8, rtol=1e-7)
    (spectrum,) = read_spectra(write(tmp_path, "export.txt", mpt_text(rows, header_lines=["Temperature : 25 °C"]),
                                     "latin-1"))
    assert spectrum.temperature == pytest.approx(298.15)


def fake_galvani(monkeypatch, data=None, error=None):
    class MPRfile:
        def __init__(self, path):
            if error:
                raise error
            self.data = data

    biologic = types.ModuleType("galvani.BioLogic")
    biologic.MPRfile = MPRfile
    galvani = types.ModuleType("galvani")
    galvani.BioLogic = biologic
    monkeypatch.setitem(sys.modules, "galvani", galvani)
    monkeypatch.setitem(sys.modules, "galvani.BioLogic", biologic)


def test_mpr_through_galvani_shares_the_splitting(tmp_path, monkeypatch):
    dtype = [("freq/Hz", "<f4"), ("Re(Z)/Ohm", "<f4"), ("-Im(Z)/Ohm", "<f4"), ("cycle number", "<f8")]
    data = np.array([(f, z.real, -z.imag, k) for k in (1, 2) for f, z in zip(F8, Z8)], dtype=dtype)
    fake_galvani(monkeypatch, data)
    path = tmp_path / "run.MPR"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE")
    spectra = read_spectra(path)
    assert [(s.name, s.cycle) for s in spectra] == [(f"{path}#1", 1), (f"{path}#2", 2)]
    np.testing.assert_allclose(spectra[1].z, Z8, rtol=1e-6)  # galvani's float32 columns

    fake_galvani(monkeypatch, error=ValueError("Unrecognised version for data module: 4"))
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert "Unrecognised version" in one_line_error(excinfo, path)
    # galvani's other failures on a file it cannot parse: unknown column IDs, a truncated file, its asserts
    for error in (NotImplementedError("Column ID 999 after column freq/Hz is unknown"),
                  OSError("Unexpected end of file while reading module header"), AssertionError()):
        fake_galvani(monkeypatch, error=error)
        with pytest.raises(DataError, match=r"cannot read the EC-Lab \.mpr file"):
            read_spectra(path)


# --------------------------------------------------------------------------------------------
# Bad files: one DataError (or OptionError) line naming the file and the field


def test_missing_file_and_directory(tmp_path):
    for path in (tmp_path / "nope.csv", tmp_path / "nope.mpt", tmp_path / "nope.mpr"):
        with pytest.raises(DataError) as excinfo:
            read_spectra(path)
        assert "no such data file" in one_line_error(excinfo, path)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataError) as excinfo:
        read_spectra(folder)
    one_line_error(excinfo, folder)


@pytest.mark.parametrize("name, text, field, words", [
    ("empty.csv", "", None, "empty"),
    ("comments.csv", "# SYNTHETIC, nothing else\n\n", None, "empty"),
    ("header.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n", None, "no data rows"),
    ("text.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1000,5,-1\n100,5,abc\n", "Z_imag [ohm]",
     "line 3: expected a number, got 'abc'"),
    ("blank.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1000,,-1\n", "Z_real [ohm]", "an empty cell"),
    ("lastblank.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1000,5,\n", "Z_imag [ohm]", "an empty cell"),
    ("nan.csv", "f_Hz,Z_real_ohm,Z_imag_ohm\n1000,nan,-1\n", "Z_real_ohm", "line 2: nan is not a finite number"),
    ("inf.csv", "f_Hz,Z_real_ohm,Z_imag_ohm\ninf,5,-1\n", "f_Hz", "not a finite number"),
    ("zero.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n" + "\n".join(f"{f},5,-1" for f in (5, 4, 3, 0, 1)),
     None, "only 4 data points (1 row with f = 0 skipped)"),
    ("zeros.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n0,5,-1\n0,5,-1\n", "frequency [Hz]",
     "no impedance rows: every one of the 2 data rows has f = 0"),
    ("negative.csv", "frequency [kHz],Z_real [ohm],Z_imag [ohm]\n" + "\n".join(f"{f},5,-1" for f in (5, 4, -10)),
     "frequency [kHz]", "line 4: frequency must be > 0, got -10 kHz"),
    ("twice.csv", "# SYNTHETIC\nf,Z',Z''\n" + "\n".join(f"{f},5,-1" for f in (100, 50, 20, 10, 50, 5)),
     "frequency", "50 Hz appears twice, on lines 4 and 7"),
    ("few.csv", "f,Z',Z''\n" + "\n".join(f"{f},5,-1" for f in (100, 50, 20, 10)), None, "only 4 data points"),
    ("noimag.csv", "frequency [Hz],Z_real [ohm],|Z| [ohm]\n1000,5,6\n", "Z_imag", "no Z_imag column"),
    ("nofreq.csv", "omega,Z_real,Z_imag\n1000,5,6\n", "frequency", "no frequency column"),
    ("volt.csv", "frequency [Hz],Z_real [V],Z_imag [V]\n1000,5,-1\n", "Z_real [V]", "not an impedance"),
    ("ms.csv", "frequency [ms],Z_real [ohm],Z_imag [ohm]\n1000,5,-1\n", "frequency [ms]", "not a frequency"),
    ("unit.csv", "frequency [Hz],Z_real [ohms per banana],Z_imag [ohm]\n1000,5,-1\n", "Z_real [ohms per banana]",
     "unknown unit"),
    ("mixed.csv", "frequency [Hz],Z_real [ohm],Z_imag [ohm*cm^2]\n1000,5,-1\n", "Z_imag [ohm*cm^2]",
     "must be in ohm, or both"),
    ("two.csv", "f,freq,Z',Z''\n1,1,5,-1\n", "freq", "two columns hold the frequency"),
    ("width.csv", "f,Z',Z''\n100,5,-1\n50,5\n", None, "line 3: 2 values for 3 columns"),
    ("wide.csv", "1,2,3,4\n5,6,7,8\n", None, "without a header must have 3 columns"),
    ("temp.csv", "# temperature = 30\nf,Z',Z''\n100,5,-1\n", "temperature", "needs a temperature unit"),
    ("cold.csv", "# temperature = -300 degC\nf,Z',Z''\n100,5,-1\n", "temperature", "absolute zero"),
    ("cycle.csv", "cycle,f,Z',Z''\n1.5,100,5,-1\n", "cycle", "whole number"),
    ("binary.csv", "f,Z',Z''\n\x00\x01\x02", None, "holds NUL bytes"),
    ("word.docx", "f,Z',Z''\n", None, "unsupported file type '.docx'; impedance spectra are read from .csv, .txt"),
])
def test_bad_tables(tmp_path, name, text, field, words):
    path = write(tmp_path, name, text)
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert words in one_line_error(excinfo, path, field)


def test_a_cell_too_big_for_the_csv_module(tmp_path):
    path = write(tmp_path, "huge.csv", "f,Z',Z''\n" + "1" * 200_000 + ",5,-1\n")
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert "cannot read the table" in one_line_error(excinfo, path)


def test_duplicate_in_one_cycle_names_the_spectrum(tmp_path):
    rows = [(f, z.real, -z.imag, 1.0) for f, z in zip(F8, Z8)]
    rows += [(f, z.real, -z.imag, 2.0) for f, z in zip((1e4, 1e3, 1e3, 100, 10, 1), Z8)]
    path = write(tmp_path, "d.mpt", mpt_text(rows), "latin-1")
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert "spectrum 2 of 2 (lines 13-18): 1000 Hz appears twice, on lines 14 and 15" in \
        one_line_error(excinfo, path, "frequency")


@pytest.mark.parametrize("make, field, words", [
    (lambda rows: mpt_text(rows, count=99), "Nb header lines", "says 99 header lines"),
    (lambda rows: mpt_text(rows).replace("Nb header lines", "Header count"), "Nb header lines", "line 2 should be"),
    (lambda rows: mpt_text(rows, columns=("freq/Hz", "Re(Z)/Ohm", "|Z|/Ohm", "cycle number")), "Z_imag",
     "no Z_imag column in the header (line 4, per 'Nb header lines')"),
    (lambda rows: mpt_text(rows).replace("1.0000000E+04", "1.0O00000E+04"), "freq/Hz",
     "line 5: expected a number, got '1.0O00000E+04'"),
    (lambda rows: mpt_text(rows[:3]), None, "only 3 data points"),
    (lambda rows: mpt_text(rows, header_lines=["Temperature : 30"]), "temperature", "needs a temperature unit"),
])
def test_bad_eclab_files(tmp_path, make, field, words):
    rows = [(f, z.real, -z.imag, 1.0) for f, z in zip(F8, Z8)]
    path = write(tmp_path, "bad.mpt", make(rows), "latin-1")
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert words in one_line_error(excinfo, path, field)


def test_mpr_without_galvani_is_an_option_error(tmp_path, monkeypatch):
    try:
        import galvani  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("galvani is installed here")
    monkeypatch.setitem(sys.modules, "galvani", None)  # import fails even if it appears later
    path = tmp_path / "run.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a")
    with pytest.raises(OptionError) as excinfo:
        read_spectra(path)
    text = one_line_error(excinfo, path)
    assert "galvani (GPL)" in text and "pip install 'nassb[mpr]'" in text


def test_utf16_text_is_refused_with_advice(tmp_path):
    path = write(tmp_path, "excel.txt", csv_text(F8, Z8), "utf-16")
    with pytest.raises(DataError) as excinfo:
        read_spectra(path)
    assert "UTF-16 text; save it as plain (UTF-8) text" in one_line_error(excinfo, path)


def test_latin1_csv_reads(tmp_path):
    text = "# SYNTHETIC, 25 µm separator\n" + csv_text(F8, Z8)
    (spectrum,) = read_spectra(write(tmp_path, "l.csv", text, "latin-1"))
    assert "SYNTHETIC, 25 µm separator" in spectrum.notes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=st.sampled_from(list("0123456789.,;-+eE \t\n#[]()/_fFzZ'Hzohm=Ω°Cµ")), max_size=300),
), suffix=st.sampled_from([".csv", ".txt", ".mpt"]))
@example(content="F_)", suffix=".csv")  # a header whose unit text stops pint's tokenizer (TokenError)
def test_any_bytes_give_spectra_or_a_data_error(tmp_path, content, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    for header in ("", "frequency [Hz],Z_real [ohm],Z_imag [ohm]\n", mpt_text([]).rstrip("\r\n") + "\r\n"):
        path.write_bytes(header.encode("latin-1") + (content.encode("utf-8") if isinstance(content, str)
                                                     else content))
        try:
            spectra = read_spectra(path)
        except DataError as err:
            assert "\n" not in str(err) and str(err).startswith(str(path))
        else:
            assert spectra and all(len(s) >= 5 for s in spectra)


# --------------------------------------------------------------------------------------------
# lin-KK


def test_lin_kk_passes_clean_noisy_spectra():
    results = [lin_kk(Spectrum(SWEEP, two_cpe(SWEEP, noise=0.005, seed=seed), "clean", "clean"))
               for seed in range(25)]
    assert all(r.ok for r in results)
    assert all(r.warning("clean") is None for r in results)
    rms = np.array([r.rms for r in results])
    assert rms.min() > 0.003 and rms.max() < 0.006  # the residuals are the 0.5 % noise
    assert max(r.systematic for r in results) < SYSTEMATIC_LIMIT / 2
    assert max(r.max_abs for r in results) < MAX_LIMIT


def test_lin_kk_matches_impedance_py_on_a_noisy_spectrum():
    # impedance.py 1.7.1's linKK(f, Z, c=.85, max_M=50, fit_type='complex') on this spectrum:
    # M = 21, mu = 0.8203, residuals equal to 2e-11 (bench check, impedance.py not needed here)
    result = lin_kk(Spectrum(SWEEP, two_cpe(SWEEP, noise=0.005, seed=0), "x", "x"), capacitance=False)
    assert result.m == 21
    assert result.mu == pytest.approx(0.8203, abs=1e-3)
    assert result.rms == pytest.approx(0.00429, abs=5e-5)


@pytest.mark.parametrize("drift, noise", [(0.15, 0.0), (0.20, 0.0), (0.15, 0.005), (0.20, 0.005)])
def test_lin_kk_flags_a_drifting_spectrum(drift, noise):
    result = lin_kk(Spectrum(SWEEP, two_cpe(SWEEP, drift=drift, noise=noise, seed=3), "drift.csv", "drift.csv"))
    assert not result.ok
    assert result.systematic > SYSTEMATIC_LIMIT
    warning = result.warning("drift.csv")
    assert warning.startswith("drift.csv: lin-KK residuals up to ") and "non-stationary" in warning
    assert "\n" not in warning


def test_lin_kk_flags_a_wrong_signed_imaginary_part():
    result = lin_kk(Spectrum(SWEEP, two_cpe(SWEEP).conj(), "sign.csv", "sign.csv"))
    assert not result.ok
    assert result.rms > 10 * RMS_LIMIT


def test_lin_kk_flags_one_bad_point():
    z = two_cpe(SWEEP, noise=0.002, seed=1)
    z[30] *= 1.06  # mains pickup at one frequency
    result = lin_kk(Spectrum(SWEEP, z, "spike.csv", "spike.csv"))
    assert not result.ok and result.max_abs > MAX_LIMIT
    assert "a few points" in result.warning("spike.csv")


def test_lin_kk_accepts_a_blocking_tail_only_with_the_capacitance():
    """Fig. 7's current collector (a series CPE) is Kramers-Kronig consistent: with the series
    capacitance lin-KK passes it; without, it would cry drift on a good spectrum."""
    spectrum = read_spectra(REPO / "priors" / "data" / "synthetic" / "eis" / "cell-1-after-formation.csv")[0]
    assert lin_kk(spectrum).ok
    assert not lin_kk(spectrum, capacitance=False).ok


def test_lin_kk_on_the_sample_files():
    for path in sorted(DATA.glob("*.[cm][sp][vt]")):
        for spectrum in read_spectra(path):
            result = lin_kk(spectrum)
            assert result.ok, (spectrum.name, result)
            assert result.residual_real.shape == result.residual_imag.shape == spectrum.frequency.shape
            np.testing.assert_allclose(result.z_fit, spectrum.z, rtol=0.01)


def test_lin_kk_is_fast():
    spectrum = Spectrum(SWEEP, two_cpe(SWEEP, noise=0.005), "x", "x")
    lin_kk(spectrum)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        lin_kk(spectrum)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.05


def test_lin_kk_rejects_bad_input():
    with pytest.raises(DataError, match="at least 5 points"):
        lin_kk(Spectrum(F8[:4], Z8[:4], "few.csv", "few.csv"))
    with pytest.raises(OptionError, match="cut-off"):
        lin_kk(Spectrum(F8, Z8, "x", "x"), c=1.5)
    with pytest.raises(OptionError, match="max_m"):
        lin_kk(Spectrum(F8, Z8, "x", "x"), max_m=0)
    z = Z8.copy()
    z[2] = 0
    with pytest.raises(DataError, match=r"\|Z\| = 0"):
        lin_kk(Spectrum(F8, z, "x", "x"))


@settings(max_examples=60, deadline=None)
@given(
    decades=st.floats(2, 7),
    per_decade=st.integers(6, 12),  # at 5 points per decade the worst seen is 0.09 %, too close to call
    lowest=st.floats(-2, 2),
    r0=st.one_of(st.just(0.0), st.floats(0.01, 100)),
    elements=st.lists(st.tuples(st.floats(-1, 3), st.floats(0, 1)), min_size=1, max_size=4),
)
def test_lin_kk_fits_any_noise_free_voigt_spectrum(decades, per_decade, lowest, r0, elements):
    n = int(np.ceil(decades * per_decade)) + 1
    frequency = np.geomspace(10 ** (lowest + decades), 10**lowest, n)
    omega = 2 * np.pi * frequency
    log_tau = np.log(1 / omega.max()), np.log(1 / omega.min())
    z = np.full(n, r0, dtype=complex)
    for log_r, where in elements:  # R from 0.1 to 1000 ohm, tau inside the measured range
        tau = np.exp(log_tau[0] + where * (log_tau[1] - log_tau[0]))
        z += 10**log_r / (1 + 1j * omega * tau)
    result = lin_kk(Spectrum(frequency, z, "voigt", "voigt"))
    assert result.max_abs < 1e-3, result
    assert result.ok
