"""The one result protocol: every result type nassb returns has summary(), to_json() and
to_netcdf(), and ``nassb.load_result`` gives it back as the class it was, with the same JSON
document and the same text.  Each result is made the cheapest real way (SYNTHETIC data, the
shipped calibration, short searches), once per module."""

from __future__ import annotations

import importlib
import json
import textwrap
from pathlib import Path

import pytest

import nassb
from nassb.inference.result import Result
from nassb.priors.jsonio import json_text

REPO = Path(__file__).resolve().parents[1]
SYNTHETIC = REPO / "priors" / "data" / "synthetic"
RANDLES = "R0-p(R1,CPE1)"

# Every module that defines a result type (the test below checks that none is missed).
MODULES = ("nassb.inference.result", "nassb.inference.arrhenius", "nassb.inference.risk.scoring",
           "nassb.inference.risk.calibrate", "nassb.inference.eis.results", "nassb.inference.eis.drt_result",
           "nassb.inference.eis.api", "nassb.design.run", "nassb.design.ranking", "nassb.design.campaign")

OBSERVED = """
    [lab]
    name = "protocol-lab"

    [[cells]]
    base = "paper-cell-1"
    proposal = "r1-p1"
    name = "built-1"
    source = "SYNTHETIC: a test cell"
    [cells.outcome]
    current = "0.2 mA/cm^2"
    cycles = 60
    resistance = "150 ± 15 ohm*cm^2"
    """


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """A campaign with one round of two proposals and one recorded cell."""
    from nassb.design.campaign import Campaign

    folder = tmp_path_factory.mktemp("protocol-campaign")
    lab = Campaign.start("protocol", "paper-cell-1", f"sqlite:///{folder / 'lab.db'}")
    proposal = lab.propose(2, out=folder, trials=20, seed=1)
    observed = folder / "observed.toml"
    observed.write_text(textwrap.dedent(OBSERVED), "utf-8")
    record = lab.record(observed, recalibration="reweight", seed=2)
    return {"proposal": proposal, "record": record, "status": lab.status()}


def _spectra():
    return nassb.list_spectra(str(SYNTHETIC / "eis" / "na-nzsp-na-30C.csv"))


def _eis():
    return nassb.fit_eis(str(SYNTHETIC / "eis" / "na-nzsp-na-30C.csv"), RANDLES, method="laplace", seed=1, kk=False)


# Results with nothing to draw: a listing of files (no impedance kept) and a record (its cells and
# the recalibrated posterior; how the parameters moved is the status's figure).
NO_FIGURE = {"spectra", "campaign-record"}

MAKERS = {
    "propagation-gum": lambda _: nassb.propagate("paper-cell-1", "gum"),
    "propagation-mc": lambda _: nassb.propagate("paper-cell-1", "mc", draws=2000, seed=1, keep_draws=True),
    "calibration": lambda _: nassb.load_result(REPO / "priors" / "data" / "risk-posterior.nc"),
    "risk": lambda _: nassb.score_risks("paper-cell-1", current="0.2 mA/cm^2", cycles=4),
    "spectra": lambda _: _spectra(),
    "eis": lambda _: _eis(),
    "eis-spectrum": lambda _: _eis().fits[0],
    "drt": lambda _: nassb.fit_drt([str(SYNTHETIC / "eis" / "na-nzsp-na-30C.csv")], area="0.503 cm^2", seed=4),
    "arrhenius": lambda _: nassb.fit_arrhenius(SYNTHETIC / "nzsp-conductivity.csv", at="30 degC", seed=3,
                                               settings=nassb.SamplerSettings(draws=200, tune=200, chains=2, seed=3)),
    "design": lambda tmp: nassb.run_design(trials=12, storage=f"sqlite:///{tmp / 'design.db'}", seed=1, top=1),
    "next-experiment": lambda _: _ranking(),
    "campaign-proposal": "proposal",
    "campaign-record": "record",
    "campaign-status": "status",
}


def _ranking():
    from nassb.design.experiments import CriticalCurrent

    base = {"cathode.porosity": 0.3, "separator.thickness": 100.0, "anode.reservoir_thickness": 36.0,
            "cell.pressure": 1.0}
    candidates = [{"name": f"c{c:g}", "design": {**base, "cathode.theoretical_capacity": c}} for c in (0.6, 1.0)]
    return nassb.next_experiment(candidates=candidates, experiments=[CriticalCurrent(cells=3)], outcomes=10, seed=1)


def _types() -> set[type]:
    for module in MODULES:
        importlib.import_module(module)

    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return {cls for cls in below(Result) if not cls.__name__.startswith("_")}


def test_every_result_type_is_round_tripped_here():
    made = {kind for kind in MAKERS if not kind.startswith(("propagation-", "eis-spectrum"))}
    kinds = {cls.kind for cls in _types()} - {"eis-spectrum"}
    assert kinds == made | {"propagation"}, "a result type without a round trip below (add it to MAKERS)"


@pytest.mark.parametrize("kind", list(MAKERS))
def test_a_result_loads_back_as_itself(kind, request, tmp_path):
    make = MAKERS[kind]
    result = request.getfixturevalue("campaign")[make] if isinstance(make, str) else make(tmp_path)
    assert isinstance(result, Result) and isinstance(result.summary(), dict)
    before = json.loads(json_text(result.to_json()))
    back = nassb.load_result(result.to_netcdf(tmp_path / f"{kind}.nc"))
    assert type(back) is type(result)
    assert json.loads(json_text(back.to_json())) == before
    assert json_text(back.summary()) == json_text(result.summary())
    assert repr(back) == repr(result)  # one text renderer, from what the file keeps
    if kind in NO_FIGURE:
        with pytest.raises(NotImplementedError):
            back.plot()
    else:  # a loaded result draws its figure from what the file keeps
        assert len(back.plot().axes) >= 1
