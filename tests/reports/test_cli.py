"""The command line: JSON contract, paper-style tables, one-line errors, a light --help."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from ..conftest import MINIMAL_CARD, run_process

MINIMAL = MINIMAL_CARD
REQUIRED = ("E_V_theo", "E_V_real", "E_m_theo", "E_m_real", "d_anode_theo", "d_anode_real",
            "R_separator", "R_interface")


@pytest.mark.parametrize("method", ["gum", "mc"])
def test_json_contract(nassb, method):
    extra = ["--draws", "20000", "--seed", "1"] if method == "mc" else []
    run = nassb("propagate", "paper-cell-1", "--method", method, *extra, "--json")
    assert run.code == 0 and run.err == ""
    doc = run.json()
    assert doc["cell"] == "paper-cell-1" and doc["method"] == method
    for name in REQUIRED:
        q = doc["quantities"][name]
        assert set(q) == {"mean", "sd", "unit", "ci95"}
        assert all(math.isfinite(v) for v in (q["mean"], q["sd"], *q["ci95"]))
        assert q["ci95"][0] < q["mean"] < q["ci95"][1]
    assert doc["quantities"]["E_V_real"]["unit"] == "Wh/l"
    assert doc["quantities"]["E_m_real"]["unit"] == "Wh/kg"
    assert doc["quantities"]["R_separator"]["unit"] == "ohm*cm^2"
    # R at 30 degC: 50 um / 1.6 mS/cm = 3.125 ohm cm2.
    assert doc["quantities"]["R_separator"]["mean"] == pytest.approx(3.125, rel=0.05)


def test_mc_json_records_seed_draws_and_the_first_order_check(nassb):
    doc = nassb("propagate", "paper-cell-2", "--method", "mc", "--draws", "30000", "--seed", "9", "--json").json()
    assert doc["monte_carlo"]["seed"] == 9 and doc["monte_carlo"]["draws"] == 30000
    assert set(doc["monte_carlo"]["first_order_check"]["E_V_real"]) == {"adequate", "d_low", "d_high", "tolerance"}


def test_resistances_are_left_out_when_the_card_has_no_data(nassb, write_card):
    card = MINIMAL + '\n[materials.plain]\ndensity = "3.3 g/cm3"\n'
    path = write_card(card.replace('material = "nzsp-tape"', 'material = "plain"'))
    doc = nassb("propagate", str(path), "--json").json()
    assert "R_separator" not in doc["quantities"] and "E_V_real" in doc["quantities"]


def test_table_reads_like_the_paper(nassb):
    run = nassb("propagate", "paper-cell-1")
    assert run.code == 0
    assert "239 ± 10 Wh/l" in run.out
    assert "138 ± 6 Wh/kg" in run.out
    assert "118 ± 5 Wh/kg" in run.out
    assert "uncertainty budget of E_V_real" in run.out
    assert "cathode.thickness" in run.out.split("uncertainty budget")[1].splitlines()[1]


def test_cards_lists_builtins(nassb):
    doc = nassb("cards", "--json").json()
    assert "paper-cell-1" in doc["cards"] and "nzsp-tape" in doc["materials"]


BAD_CARDS = [
    ('thickness = "50 ± 4 um"', 'thickness = "-50 ± 4 um"', "separator.thickness", "must be > 0"),
    ('thickness = "50 ± 4 um"', 'thickness = "nan um"', "separator.thickness", "finite"),
    ("porosity = 0.63", "porosity = 1.2", "cathode.porosity", "must lie in (0, 1)"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± 4 blorps"', "separator.thickness", "unknown unit"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± 4 kg"', "separator.thickness", "is not"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± -4 um"', "separator.thickness", "uncertainty must be >= 0"),
    ('thickness = "50 ± 4 um"', 'thickness = "about fifty"', "separator.thickness", "expected a number"),
    ('material = "nzsp-tape"', 'material = "unobtainium"', "separator.material", "unknown material"),
    ('name = "mini"', 'name = "mini', "", "not valid TOML"),
]


@pytest.mark.parametrize("old, new, field, words", BAD_CARDS)
def test_bad_cards_exit_2_with_one_line(nassb, write_card, old, new, field, words):
    path = write_card(MINIMAL.replace(old, new, 1))
    run = nassb("propagate", str(path))
    assert run.code == 2 and run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"nassb: {path}: {field}")
    assert words in lines[0]


@pytest.mark.parametrize("args, words", [
    (["propagate", "no/such/card.toml"], "no/such/card.toml: no such card file"),
    (["propagate", "paper-cell-1", "--method", "magic"], "invalid choice"),
    (["propagate", "paper-cell-1", "--method", "mc", "--draws", "-5"], "--draws"),
    (["propagate", "paper-cell-1", "--method", "mc", "--draws", "many"], "expected a whole number"),
    (["propagate", "paper-cell-1", "--method", "mc", "--seed", "-1"], "--seed"),
    (["propagate"], "CARD"),
    (["propagate", "paper-cell-1", "--draws", "100"], "--draws: does not apply to method 'gum'"),
    (["propagate", "paper-cell-1", "--method", "mc", "--chains", "2"], "--chains does not apply to --method mc"),
])
def test_bad_options_exit_2_with_one_line(nassb, args, words):
    run = nassb(*args)
    assert run.code == 2
    assert len(run.err.strip().splitlines()) == 1 and words in run.err


def test_a_bad_card_in_a_real_process_gives_no_traceback(write_card):
    path = write_card(MINIMAL.replace("porosity = 0.63", "porosity = -0.1"))
    proc = run_process("propagate", str(path), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"nassb: {path}: cathode.porosity: must lie in (0, 1), got -0.1"


def test_json_mode_prints_only_json_in_a_real_process():
    proc = run_process("propagate", "paper-cell-1", "--method", "mc", "--draws", "10000", "--seed", "2", "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["method"] == "mc"


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from nassb.reports.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['propagate', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pymc', 'arviz', 'optuna', 'pytensor', 'matplotlib', 'xarray', 'scipy', 'pint')"
        " if m in sys.modules]\n"
        "print('heavy=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0
    assert proc.stdout.strip().splitlines()[-1] == "heavy="
