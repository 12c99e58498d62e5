"""Listing what was read (describe_spectra) and choosing spectra by cycle or name (select_spectra).

The files read here are the SYNTHETIC samples of tests/data/eis.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nassb.inference.eis import Spectrum, describe_spectra, read_spectra, select_spectra
from nassb.inference.eis.select import DESCRIPTION_KEYS, parse_cycles
from nassb.priors import OptionError

DATA = Path(__file__).resolve().parents[1] / "data" / "eis"
CYCLES = DATA / "synthetic_eclab_v11_61.mpt"     # cycles 1, 2, 3
TWO = DATA / "synthetic_two_cycles.mpt"           # cycles 1, 2
PLAIN = DATA / "synthetic_preamble.txt"           # one spectrum, no cycle, 60 degC


def test_describe_lists_what_was_read():
    spectra = read_spectra(CYCLES) + read_spectra(PLAIN)
    rows = describe_spectra(spectra)
    assert all(set(row) == set(DESCRIPTION_KEYS) for row in rows)
    assert set(DESCRIPTION_KEYS) == {"spectrum", "file", "cycle", "temperature", "points", "f_min", "f_max",
                                     "skipped"}
    first = rows[0]
    assert first["spectrum"] == f"{CYCLES}#1" and first["file"] == str(CYCLES)
    assert (first["cycle"], first["temperature"], first["points"]) == (1, None, 18)
    assert first["f_max"] == pytest.approx(2e5) and first["f_min"] == pytest.approx(0.5)
    assert first["skipped"] == ["2 rows with f = 0"]
    last = rows[-1]
    assert last["cycle"] is None and last["temperature"] == pytest.approx(333.15) and last["skipped"] == [
        "2 rows with f = 0"]
    json.dumps(rows)  # plain types only
    assert describe_spectra(read_spectra(TWO))[0]["skipped"] == []


def test_one_row_is_singular():
    s = Spectrum(np.geomspace(1e3, 1, 5), np.ones(5) - 1j, "a.csv", "a.csv", skipped=((3, "f = 0"),))
    assert describe_spectra([s])[0]["skipped"] == ["1 row with f = 0"]


@pytest.mark.parametrize("cycles, expected", [
    ("1,3", [1, 3]), ("2-3", [2, 3]), (" 1 - 2 ", [1, 2]), ([3], [3]), ("1,1-3", [1, 2, 3]), ((2, 1), [1, 2]),
])
def test_cycles_are_eclab_cycle_numbers(cycles, expected):
    chosen = select_spectra(read_spectra(CYCLES), cycles=cycles)
    assert [s.cycle for s in chosen] == expected


def test_without_cycles_the_order_in_each_file_counts():
    spectra = read_spectra(PLAIN) + read_spectra(DATA / "synthetic_nova.txt")
    assert [s.name for s in select_spectra(spectra, cycles="1")] == [str(PLAIN), str(DATA / "synthetic_nova.txt")]
    with pytest.raises(OptionError) as err:
        select_spectra(spectra, cycles="2")
    assert err.value.field == "cycles" and "no spectrum has cycle 2" in err.value.message
    assert f"{PLAIN}: spectra 1" in err.value.message


def test_files_with_and_without_cycles_mix():
    spectra = read_spectra(TWO) + read_spectra(CYCLES) + read_spectra(PLAIN)
    chosen = select_spectra(spectra, cycles="2")
    assert [s.name for s in chosen] == [f"{TWO}#2", f"{CYCLES}#2"]
    chosen = select_spectra(spectra, cycles="1-3")
    assert len(chosen) == 2 + 3 + 1


def test_labels_pick_by_name_and_combine_with_cycles():
    spectra = read_spectra(TWO) + read_spectra(CYCLES)
    assert [s.name for s in select_spectra(spectra, labels=[f"{CYCLES}#3", f"{TWO}#1"])] == [f"{TWO}#1",
                                                                                              f"{CYCLES}#3"]
    assert [s.name for s in select_spectra(spectra, labels=f"{TWO}#2")] == [f"{TWO}#2"]
    with pytest.raises(OptionError) as err:
        select_spectra(spectra, cycles="1", labels=[f"{CYCLES}#3"])
    assert err.value.field == "spectra" and "keeps no spectrum" in err.value.message


@pytest.mark.parametrize("cycles, field, words", [
    ("3-", "cycles", "cannot read '3-' in '3-'"),
    ("1,,2", "cycles", "cannot read ''"),
    ("a", "cycles", "cannot read 'a'"),
    ("-1", "cycles", "cannot read '-1'"),
    ("5-3", "cycles", "runs backwards; write it '3-5'"),
    ("7", "cycles", "no spectrum has cycle 7; available: "),
    ("7-9", "cycles", "no spectrum has cycles 7-9"),
    ([1.5], "cycles", "a cycle is a whole number"),
    ([], "cycles", "no cycles given"),
])
def test_bad_cycles_are_option_errors_that_list_what_is_there(cycles, field, words):
    with pytest.raises(OptionError) as err:
        select_spectra(read_spectra(CYCLES), cycles=cycles)
    assert err.value.field == field and words in err.value.message and "\n" not in str(err.value)
    if "available" in words:
        assert f"{CYCLES}: cycles 1-3" in err.value.message


def test_an_unknown_label_lists_the_names():
    with pytest.raises(OptionError) as err:
        select_spectra(read_spectra(CYCLES), labels=["cell-9"])
    assert err.value.field == "spectra" and "no spectrum is named 'cell-9'" in err.value.message
    assert f"{CYCLES}#1" in err.value.message


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 5)), min_size=1, max_size=6))
def test_parsed_ranges_cover_exactly_the_numbers_written(parts):
    text = ",".join(f"{a}" if b == 0 else f"{a}-{a + b}" for a, b in parts)
    covered = {n for low, high in parse_cycles(text) for n in range(low, high + 1)}
    assert covered == {n for a, b in parts for n in range(a, a + b + 1)}
