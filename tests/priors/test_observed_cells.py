"""The observed-cells file (priors/lab.py): the seed paper's observations and a lab's own cells,
written in the card grammar; every mistake is one error naming the file and the field."""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pytest

from nassb.priors import CardError, DataError, parse_quantity
from nassb.priors import fields as F
from nassb.priors.lab import load_observed_cells
from nassb.priors.risk import load_risk_observations

from ..conftest import REPO

EXAMPLE = REPO / "priors" / "examples" / "lab-cells-synthetic.toml"


def write(tmp_path, text: str, name: str = "lab.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


MINIMAL = """
    [[cells]]
    base = "paper-cell-2"
    name = "lab-7"
    source = "SYNTHETIC: test"
    [cells.separator]
    thickness = "60 ± 4 um"
    [cells.cell]
    pressure = "0.1 MPa"
    area = "0.503 cm^2"
    [cells.outcome]
    cracked = false
    current = "0.2 mA/cm^2"
    cycles = 40
    short_cycle = 40
    resistance = "150 ± 20 ohm*cm^2"
"""


def test_the_issues_example_reads_as_written(tmp_path):
    cells = load_observed_cells(write(tmp_path, MINIMAL))
    (cell,) = cells
    assert cell.name == "lab-7" and cell.lab and cell.count == 1
    assert cell.card.separator.get("thickness").value == 60.0
    assert cell.card.cell["pressure"].value == pytest.approx(0.1)
    assert cell.card.cathode.get("thickness").value == 100.0          # from the base, paper-cell-2
    o = cell.outcome
    assert (o.cracked, o.cycles, o.short) == (False, 40, (40, 40))
    assert o.current.value == pytest.approx(0.2)
    (r,) = o.resistance
    assert (r.value.value, r.value.sd, r.stage, r.measure) == (150.0, 20.0, "after", "R_cell")
    assert len(cells.sha256) == 64


def test_the_papers_file_cites_and_states_every_assumption():
    cells = load_risk_observations()
    assert len(cells) >= 7
    for cell in cells:
        assert cell.citation and cell.assumption, cell.name
        assert not cell.lab
    # Ten cells of cell 2's assembly cycled (cell 2, eight and the one of Fig. 9c): all held 1 MPa.
    like_cell_2 = [c for c in cells if c.outcome.selected_shard and c.outcome.cycled]
    assert sum(c.count for c in like_cell_2) == 10
    assert all(c.card.cell["area"].value == pytest.approx(0.196, abs=1e-3) for c in like_cell_2)
    # cell 1's pressure is one uncertain quantity, the paper-cell-1 card's
    cell_1 = next(c for c in cells if c.name == "cell-1")
    p = cell_1.card.cell["pressure"]
    assert (p.dist, p.low, p.high) == ("loguniform", pytest.approx(0.005), pytest.approx(0.05))


def test_the_nine_shorted_cells_are_interval_censored_after_surviving_their_first_cycle():
    cells = {c.name: c for c in load_risk_observations()}
    nine = cells["cells-like-cell-2"]
    assert nine.count + cells["cell-of-figure-9c"].count == 9
    o = nine.outcome
    # 4 formation cycles, then the first cycle at the cycling current survived: cycles 6-14 in all
    assert (o.formation_cycles, o.short) == (4, (6, 14))
    assert cells["cell-2"].outcome.short == (75, 75)
    assert cells["cell-1"].outcome.short is None and cells["cell-1"].outcome.cycles == 4


def test_a_card_path_base_is_relative_to_the_file(tmp_path):
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "mine.toml").write_text('base = "paper-cell-1"\n[separator]\nthickness = "70 ± 3 um"\n')
    cells = load_observed_cells(write(tmp_path, """
        [[cells]]
        base = "cards/mine.toml"
        name = "a"
        [cells.outcome]
        cracked = true
    """))
    assert cells.cells[0].card.separator.get("thickness").value == 70.0


def test_full_card_tables_without_a_base(tmp_path):
    text = (REPO / "priors" / "data" / "cells" / "paper-cell-2.toml").read_text()
    tables = text.replace("[cell]", "[cells.cell]").replace("[anode]", "[cells.anode]").replace(
        "[separator]", "[cells.separator]").replace("[cathode]", "[cells.cathode]")
    path = tmp_path / "lab.toml"
    path.write_text('[[cells]]\nname = "full"\n' + tables + '\n[cells.outcome]\ncracked = false\n')
    (cell,) = load_observed_cells(path)
    assert cell.card.name == "full" and cell.card.separator.get("thickness").value == 110.0


def test_a_resistance_from_an_impedance_fit(tmp_path):
    fit = tmp_path / "fit" / "summary.json"
    fit.parent.mkdir()
    fit.write_text(json.dumps({"circuit": "R0-p(R1,CPE1)", "temperature": 303.15,
                               "parameters": {"R0": {"mean": 10.0, "sd": 1.0, "unit": "ohm*cm^2"}},
                               "derived": {"R_total": {"mean": 140.0, "sd": 12.0, "unit": "ohm*cm^2"}}}))
    cells = load_observed_cells(write(tmp_path, MINIMAL.replace(
        'resistance = "150 ± 20 ohm*cm^2"', 'resistance = { fit = "fit/summary.json", derived = "R_total" }')))
    r = cells.cells[0].outcome.resistance[0].value
    assert (r.value, r.sd) == (140.0, 12.0)


def test_a_capacities_file_gives_the_first_cycle_loss_the_efficiency_and_the_fade():
    cells = {c.name: c for c in load_observed_cells(EXAMPLE)}
    o = cells["syn-zero-excess"].outcome
    loss = 1 - o.first_discharge.value / o.first_charge.value
    assert loss == pytest.approx(0.05, abs=0.005)          # the synthetic file's 5 %
    assert o.mean_loss.loss == pytest.approx(0.005, abs=0.001) and o.mean_loss.cycles == (2, 30)
    assert [c for c, _ in o.discharge] == [2, 30]


def test_the_example_lab_file_is_labelled_synthetic():
    assert "SYNTHETIC" in EXAMPLE.read_text().splitlines()[0]
    assert all("SYNTHETIC" in c.source for c in load_observed_cells(EXAMPLE))
    assert "SYNTHETIC" in (EXAMPLE.parent / "lab-cells-synthetic-capacities.csv").read_text().splitlines()[0]


@pytest.mark.parametrize("change, field, words", [
    (("short_cycle = 40", "short_cycle = 0"), "cells[0].outcome.short_cycle", "expected the cycle"),
    (("short_cycle = 40", "short_cycle = 41"), "cells[0].outcome.short_cycle", "only 40 cycles"),
    (("short_cycle = 40", "short_cycle = [5, 2]"), "cells[0].outcome.short_cycle", "[first, last]"),
    (("cycles = 40", "cycles = 50"), "cells[0].outcome.cycles", "cannot have run 50"),
    (('current = "0.2 mA/cm^2"', 'current = "0.2 V"'), "cells[0].outcome.current", "V"),
    (('current = "0.2 mA/cm^2"', ""), "cells[0].outcome.current", "missing"),
    (("cracked = false", "cracked = 1"), "cells[0].outcome.cracked", "true or false"),
    (("cracked = false", "cracked = true"), "cells[0].outcome.cracked", "no cycling outcomes"),
    (('resistance = "150 ± 20 ohm*cm^2"', 'resistance = "150 ± 20 ohm"'), "cells[0].outcome.resistance", "ohm"),
    (('thickness = "60 ± 4 um"', 'thickness = "-60 um"'), "cells[0].separator.thickness", "> 0"),
    (('base = "paper-cell-2"', 'base = "paper-cell-9"'), "cells[0].base", "built-in"),
    (('name = "lab-7"', ""), "cells[0].name", "missing"),
    (("cycles = 40", "cycles = 40\nshorted = 3"), "cells[0].outcome.shorted", "unknown key"),
])
def test_every_mistake_names_the_file_and_the_field(tmp_path, change, field, words):
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(CardError) as err:
        load_observed_cells(path)
    assert err.value.file == str(path) and err.value.field == field, str(err.value)
    assert words in err.value.message
    assert "\n" not in str(err.value)


def test_the_fourth_cell_is_named_in_its_error(tmp_path):
    one = MINIMAL.split("[[cells]]", 1)[1]
    text = "".join(f"[[cells]]{one.replace('lab-7', f'lab-{i}')}" for i in range(3))
    text += "[[cells]]" + one.replace("lab-7", "lab-3").replace("short_cycle = 40", "short_cycle = 45")
    with pytest.raises(CardError) as err:
        load_observed_cells(write(tmp_path, text))
    assert err.value.field == "cells[3].outcome.short_cycle"


def test_a_second_cell_of_the_same_name_is_refused(tmp_path):
    with pytest.raises(CardError, match="a second cell named"):
        load_observed_cells(write(tmp_path, MINIMAL + MINIMAL))


def test_a_bad_capacities_file_is_a_data_error_naming_it(tmp_path):
    (tmp_path / "caps.csv").write_text("cycle,charge [mAh/cm^2]\n1,2.0\n")
    path = write(tmp_path, MINIMAL.replace('resistance = "150 ± 20 ohm*cm^2"', 'capacities = "caps.csv"'))
    with pytest.raises(DataError) as err:
        load_observed_cells(path)
    assert err.value.file.endswith("caps.csv") and err.value.field == "discharge"


def test_a_file_without_cells_is_refused(tmp_path):
    with pytest.raises(CardError, match=r"\[\[cells\]\]"):
        load_observed_cells(write(tmp_path, '[lab]\nname = "x"\n'))


# -- the log-uniform distribution of the card grammar ----------------------------------------

def test_loguniform_moments_sampling_and_quantiles():
    q = parse_quantity({"dist": "loguniform", "low": "0.005 MPa", "high": "50 kPa"}, F.PRESSURE)
    span = math.log(10.0)
    mean = 0.045 / span
    assert (q.low, q.high) == (pytest.approx(0.005), pytest.approx(0.05))
    assert q.value == pytest.approx(mean)
    assert q.sd == pytest.approx(math.sqrt((0.05 ** 2 - 0.005 ** 2) / (2 * span) - mean ** 2))
    x = q.sample(np.random.default_rng(1), 200_000)
    assert x.min() >= 0.005 and x.max() <= 0.05
    assert np.median(x) == pytest.approx(math.sqrt(0.005 * 0.05), rel=0.01)    # uniform in ln p
    assert x.mean() == pytest.approx(mean, rel=0.01)
    assert q.quantiles([0.0, 0.5, 1.0]) == pytest.approx([0.005, math.sqrt(0.005 * 0.05), 0.05])
    assert "log-uniform" in str(q)


@pytest.mark.parametrize("table, words", [
    ({"dist": "loguniform", "low": 0.0, "high": 0.05}, "low > 0"),
    ({"dist": "loguniform", "high": 0.05}, "needs 'low' and 'high'"),
    ({"dist": "loguniform", "low": 0.01, "high": 0.05, "value": 0.02}, "alone"),
])
def test_loguniform_mistakes(table, words):
    with pytest.raises(CardError, match=words):
        parse_quantity(table, F.PRESSURE)


def test_loguniform_prior_in_pymc_stays_in_its_range():
    import pymc as pm

    from nassb.inference.bayes import prior_variable

    q = parse_quantity({"dist": "loguniform", "low": 0.005, "high": 0.05}, F.PRESSURE)
    with pm.Model():
        prior_variable("cell.pressure", q)
        draws = pm.draw(pm.modelcontext(None)["cell.pressure"], draws=2000, random_seed=1)
    assert draws.min() >= 0.005 and draws.max() <= 0.05
    assert np.median(draws) == pytest.approx(math.sqrt(0.005 * 0.05), rel=0.1)
