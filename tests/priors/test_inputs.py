"""Cards and data read like any other file: a byte-order mark, a pipe, a missing data file named
with its card and field, deep card chains refused clearly, and units converted per column."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from nassb.priors import CardError, DataError, load_card
from nassb.priors import fields as F
from nassb.priors.card_files import MAX_BASE_DEPTH
from nassb.priors.tables import read_table
from nassb.priors.units import conversion

from ..conftest import MINIMAL_CARD, run_process


def test_a_card_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff".encode("utf-8") + MINIMAL_CARD.encode("utf-8"))
    assert load_card(path).name == "mini"


def test_a_card_that_is_not_utf8_says_so(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(MINIMAL_CARD.replace("mini", "m\u00e9lange").encode("latin-1"))
    with pytest.raises(CardError) as caught:
        load_card(path)
    assert caught.value.file == str(path) and "not UTF-8" in caught.value.message


def test_a_card_from_a_named_pipe_is_read(tmp_path):
    fifo = tmp_path / "card.fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w", encoding="utf-8") as pipe:
            pipe.write(MINIMAL_CARD)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    card = load_card(fifo)
    writer.join(timeout=10)
    assert card.name == "mini" and card.origin == str(fifo)


def test_a_card_on_standard_input_is_read():
    run = run_process_with_input(MINIMAL_CARD, "propagate", "/dev/stdin", "--json")
    assert run.returncode == 0, run.stderr
    assert '"E_V_real"' in run.stdout


def run_process_with_input(text: str, *args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "nassb.reports.cli", *args], input=text, capture_output=True,
                          text=True, timeout=300, check=False)


def test_a_missing_card_is_still_no_such_card_file(tmp_path):
    with pytest.raises(CardError, match="no such card file"):
        load_card(tmp_path / "absent.toml")
    assert run_process("propagate", str(tmp_path / "absent.toml")).returncode == 2


def test_a_missing_observation_file_is_named_with_the_card_and_its_field(write_card, tmp_path):
    path = write_card(MINIMAL_CARD + '\n[[observations]]\nkind = "replicates"\nquantity = "separator.thickness"\n'
                      'file = "no-such.csv"\nreading_sd = "1 um"\n')
    with pytest.raises(CardError) as caught:
        load_card(path)
    err = caught.value
    assert err.file == str(path) and err.field == "observations[0].file"
    assert str(err).startswith(f"{path}: observations[0].file: no such data file")
    assert "no-such.csv" in err.message


def test_a_missing_fit_summary_is_named_with_its_field(write_card):
    path = write_card(MINIMAL_CARD + '\n[[observations]]\nkind = "measurement"\nquantity = "separator.resistance"\n'
                      'fit = "fit/summary.json"\nderived = "R_separator"\n')
    with pytest.raises(CardError) as caught:
        load_card(path)
    assert caught.value.field == "observations[0].fit" and "no such fit summary" in caught.value.message


def test_a_deep_chain_of_base_cards_is_a_clear_error(tmp_path):
    depth = 1500
    (tmp_path / "c0.toml").write_text(MINIMAL_CARD, encoding="utf-8")
    for i in range(1, depth + 1):
        (tmp_path / f"c{i}.toml").write_text(f'base = "c{i - 1}.toml"\n', encoding="utf-8")
    with pytest.raises(CardError) as caught:
        load_card(tmp_path / f"c{depth}.toml")
    err = caught.value
    assert err.file == str(tmp_path / f"c{depth}.toml") and err.field == "base"
    assert f"deeper than {MAX_BASE_DEPTH}" in err.message and "\n" not in str(err) and len(str(err)) < 400


def test_a_chain_within_the_limit_is_read(tmp_path):
    (tmp_path / "c0.toml").write_text(MINIMAL_CARD, encoding="utf-8")
    for i in range(1, MAX_BASE_DEPTH + 1):
        (tmp_path / f"c{i}.toml").write_text(f'base = "c{i - 1}.toml"\n', encoding="utf-8")
    assert load_card(tmp_path / f"c{MAX_BASE_DEPTH}.toml").name == "mini"


def test_toml_nested_too_deep_is_a_card_error(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n" + MINIMAL_CARD, encoding="utf-8")
    with pytest.raises(CardError) as caught:
        load_card(path)
    assert caught.value.file == str(path)


@pytest.mark.parametrize("unit, canonical, values", [
    ("degC", "K", [-10.0, 0.0, 25.0, 80.5]),
    ("degF", "K", [-40.0, 32.0, 98.6]),
    ("mm", "um", [0.05, 1.0, 123.4]),
    ("S/m", "mS/cm", [1e-6, 0.16, 10.0]),
])
def test_a_column_converts_as_its_values_do_one_by_one(unit, canonical, values):
    convert = conversion(unit, canonical)
    assert np.allclose(convert(np.array(values)), [convert(v) for v in values], rtol=1e-15, atol=0)
    assert isinstance(convert(values[0]), float)


def test_read_table_reports_the_first_bad_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("temperature [degC],conductivity [mS/cm]\n30,1.6\n20,abc\n10,0.8\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3: expected a number, got 'abc'"):
        read_table(path)
    path.write_text("temperature [degC],conductivity [mS/cm]\n30,1.6\n20,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3: inf is not a finite number"):
        read_table(path)
    path.write_text("temperature [degC],conductivity [mS/cm]\n30,1.6\n-300,1.2\n", encoding="utf-8")
    with pytest.raises(DataError, match="data row 2: must be > 0 K, got -300 degC"):
        read_table(path).find("temperature", spec=F.TEMPERATURE)


def test_a_large_table_reads_and_converts_in_seconds(tmp_path):
    # 10^5 rows: value-by-value conversion through pint took about 5 s for these two columns;
    # a conversion per column takes milliseconds (10^6 rows: bench figures in the commit).
    rows = 100_000
    rng = np.random.default_rng(1)
    t = rng.uniform(-10, 80, rows)
    path = tmp_path / "big.csv"
    path.write_text("# SYNTHETIC\ntemperature [degC],conductivity [S/m]\n"
                    + "".join(f"{a:.5f},{0.16 + a * 1e-3:.6g}\n" for a in t), encoding="utf-8")
    start = time.perf_counter()
    table = read_table(path)
    kelvin = table.find("temperature", spec=F.TEMPERATURE).values
    sigma = table.find("conductivity", spec=F.CONDUCTIVITY).values
    elapsed = time.perf_counter() - start
    assert np.allclose(kelvin, np.round(t, 5) + 273.15)
    assert np.allclose(sigma, 10 * (0.16 + np.round(t, 5) * 1e-3), rtol=1e-5)
    assert elapsed < 3.0, f"{rows} rows took {elapsed:.1f} s"


def test_a_quote_left_open_in_a_table_is_one_line_naming_its_line(tmp_path):
    # Found by tests/reports/test_fuzz.py: the open quote took the lines after it into one cell.
    path = tmp_path / "open.csv"
    path.write_text('temperature [degC],conductivity [mS/cm]\n-10,"\n-5,0.39\n0,0.5\n', encoding="utf-8")
    with pytest.raises(DataError, match='line 2: a quote \\(\\"\\) that is not closed on its line'):
        read_table(path)
