"""A simulated campaign against a known truth (SYNTHETIC): a "true lab" whose risk parameters are
drawn once from the posterior (and its lab offsets from their priors) builds whatever is
proposed; its outcomes (crack, short cycle, resistance, first-cycle loss) are simulated with the
risk forms.  Three rounds of propose -> build -> record -> recalibrate (the default: PSIS
reweighting, tempered sequential Monte Carlo where its gate fails) must move the posterior toward
the truth and raise the true value of the best truly feasible cell of a batch, against a
campaign that builds random cells that look feasible under its own posterior (averaged over six
true labs); holding the limits with a posterior probability (the chance constraint,
``limit_confidence``) must break fewer of them than holding them on the means.  These labs'
laws are nassb's own forms: tests/design/test_campaign_truth.py runs labs whose laws differ."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nassb.design.campaign import Campaign
from nassb.design.study import constraints, objective_value
from nassb.inference.risk import forms
from nassb.inference.risk.predict import RiskModel
from nassb.priors.risk import load_lab_priors

SEEDS = (20261202, 1, 2, 3, 4, 5)
CONFIDENCE = 0.9  # the chance-constrained campaign holds its limits with this posterior probability
ROUNDS, BATCH, TRIALS = 3, 4, 120
EVAL_DRAWS = 1000
LEARNED = ("lab.strength", "lab.ccd", "fracture.strength", "fracture.weibull_modulus", "short.ccd_reference",
           "short.pressure_exponent", "short.thickness_exponent")


class TrueLab:
    """SYNTHETIC: one set of risk parameters that generates the outcomes of what is built."""

    def __init__(self, rng: np.random.Generator):
        shipped = RiskModel.load()
        i = int(rng.integers(shipped.size))
        self.theta = {k: float(v[i]) for k, v in shipped.draws.items()}
        for name, rp in load_lab_priors().items():
            self.theta[name] = float(rp.prior.sample(rng, 1)[0])
        self.model = RiskModel({k: np.full(EVAL_DRAWS, v) for k, v in self.theta.items()})

    def judge(self, campaign: Campaign, design: dict) -> tuple[float, bool]:
        """The true objective of a design and whether it truly meets every limit (the card's own
        manufacturing spread only: the risk parameters are the truth)."""
        scorer, settings, _ = campaign._scorer(self.model)
        values = scorer.score(design)
        feasible = all(v <= 0 for v in constraints(values, settings).values())
        return objective_value(values, settings.objective, settings.quantile), feasible

    def outcome(self, campaign: Campaign, design: dict, rng: np.random.Generator) -> str:
        """The [cells.outcome] table of one built cell, simulated with the risk forms."""
        t = self.theta
        scorer, settings, _ = campaign._scorer(self.model)
        values = scorer.score(design)
        p, sep, res = design["cell.pressure"], design["separator.thickness"], design["anode.reservoir_thickness"]
        area = float(campaign.card.cell["area"].value)
        strength = t["fracture.strength"] * math.exp(t["lab.strength"])
        p_crack = float(forms.fracture_probability(p, sep, area, strength, t["fracture.weibull_modulus"],
                                                   t["fracture.span_reference"], t["fracture.span_exponent"]))
        if rng.random() < p_crack:
            return "cracked = true\n"
        current = float(np.mean(values["current"]))
        delivered = design["cathode.theoretical_capacity"] * float(np.mean(scorer.utilisation))
        ccd = forms.critical_current(p, res, sep, delivered, t["short.ccd_reference"] * math.exp(t["lab.ccd"]),
                                     t["short.pressure_exponent"], t["short.reservoir_exponent"],
                                     t["short.thickness_exponent"], t["short.capacity_exponent"])
        stress = float(forms.current_stress(current, ccd, t["short.ccd_modulus"]))
        cycles = settings.cycles
        short = math.ceil((rng.exponential() / stress) ** (1.0 / t["short.cycle_exponent"]))
        lines = [f'current = "{current:.6g} mA/cm^2"']
        if short <= cycles:
            lines.append(f"short_cycle = {short}")
        else:
            lines.append(f"cycles = {cycles}")
            r_cell = float(np.mean(values["R_cell"])) * math.exp(0.05 * rng.standard_normal())
            lines.append(f'resistance = "{r_cell:.5g} ± {0.05 * r_cell:.3g} ohm*cm^2"')
        loss = t["inventory.first_loss"] * math.exp(0.05 * rng.standard_normal())
        lines.append(f'first_charge = "{delivered:.6g} mAh/cm^2"')
        lines.append(f'first_discharge = "{delivered * (1 - loss):.6g} mAh/cm^2"')
        return "\n".join(lines) + "\n"


def _record(campaign: Campaign, folder, round_: int, built: list[tuple[str, dict]], lab: TrueLab, rng) -> None:
    text = ['[lab]\nname = "synthetic-true-lab"\n']
    for name, design in built:
        text.append(f'[[cells]]\nbase = "{name}.toml"\nname = "{campaign.name}-{name}"\n'
                    f'source = "SYNTHETIC: simulated by the true lab"\n[cells.outcome]\n'
                    + lab.outcome(campaign, design, rng))
    path = folder / f"round{round_}.toml"
    path.write_text("\n".join(text), "utf-8")
    result = campaign.record(path, seed=int(rng.integers(2**31)))
    assert result.method in ("reweighting", "smc")  # seconds: never a NUTS run


def _random_batch(campaign: Campaign, folder, round_: int, rng) -> list[tuple[str, dict]]:
    """K random designs that look feasible under the campaign's current posterior (card files)."""
    scorer, settings, ranges = campaign._scorer()
    space = campaign._space(scorer, settings, ranges)
    out = []
    for _ in range(4000):
        design = {}
        for v in space:
            u = rng.random()
            design[v.name] = (v.low * (v.high / v.low) ** u) if v.log else v.low + u * (v.high - v.low)
        values = scorer.score(design)
        if all(x <= 0 for x in constraints(values, settings, ranges).values()):
            name = f"r{round_}-random{len(out) + 1}"
            (folder / f"{name}.toml").write_text(campaign.card_text(name, design, scorer), "utf-8")
            out.append((name, design, objective_value(values, settings.objective, settings.quantile)))
        if len(out) == BATCH:
            break
    out.sort(key=lambda x: -x[2])
    return [(n, d) for n, d, _ in out]


def _distance(campaign: Campaign, lab: TrueLab, scale: dict) -> float:
    draws = campaign.risk_model().draws
    return float(np.mean([abs(np.mean(draws[k]) - lab.theta[k]) / scale[k] for k in LEARNED]))


def _excess(campaign: Campaign, lab: TrueLab, design: dict) -> float:
    """How far a design truly exceeds its worst limit (relative to the limit; 0 when within all)."""
    scorer, settings, _ = campaign._scorer(lab.model)
    return max(0.0, *constraints(scorer.score(design), settings).values())


def simulate(seed: int, folder) -> dict:
    """One true lab (SYNTHETIC) and two campaigns on it: designed and random feasible-looking."""
    rng = np.random.default_rng(seed)
    lab = TrueLab(rng)
    storage = f"sqlite:///{folder / 'sim.db'}"
    designed = Campaign.start("designed", storage=storage)
    chance = Campaign.start("chance", storage=storage, limit_confidence=CONFIDENCE)
    baseline = Campaign.start("random", storage=storage)
    shipped = RiskModel.load().draws
    lab_priors = load_lab_priors()
    scale = {k: float(np.std(shipped[k])) if k in shipped else float(lab_priors[k].prior.sd) for k in LEARNED}
    prior = {k: (lab_priors[k].prior.value if k in lab_priors else float(np.mean(shipped[k]))) for k in LEARNED}
    start = float(np.mean([abs(prior[k] - lab.theta[k]) / scale[k] for k in LEARNED]))
    track: dict[str, dict[str, list]] = {name: {"value": [], "violations": [], "excess": [], "built": [],
                                                "distance": [start]}
                                         for name in ("designed", "chance", "random")}
    for r in range(1, ROUNDS + 2):
        here = folder / f"round{r}"
        here.mkdir()
        for name in ("designed", "chance"):  # the proposals' cards, apart: their names are alike
            (here / name).mkdir()
        batches = {name: [(p["name"], {k: v["value"] for k, v in p["design"].items() if k != "cathode.thickness"})
                          for p in campaign.propose(BATCH, out=here / name, trials=TRIALS,
                                                    seed=int(rng.integers(2**31))).proposals]
                   for name, campaign in (("designed", designed), ("chance", chance))}
        batches["random"] = _random_batch(baseline, here, r, rng)
        for name, campaign in (("designed", designed), ("chance", chance), ("random", baseline)):
            judged = [lab.judge(campaign, d) for _, d in batches[name]]
            # the best cell of the batch as built: the highest true energy among those truly within the limits
            track[name]["value"].append(max([v for v, f in judged if f], default=0.0))
            # a round that proposes nothing builds nothing: it breaks no limit and is worth nothing
            track[name]["violations"].append(float(np.mean([not f for _, f in judged])) if judged else 0.0)
            track[name]["built"].append(len(judged))
            track[name]["excess"].append(float(np.mean([_excess(campaign, lab, d) for _, d in batches[name]]))
                                         if judged else 0.0)
            if r <= ROUNDS:  # build, record, recalibrate; the last round's batch is only judged
                if judged:
                    _record(campaign, here if name == "random" else here / name, r, batches[name], lab, rng)
                track[name]["distance"].append(_distance(campaign, lab, scale))
    return track


@pytest.mark.slow
def test_campaigns_learn_true_labs_faster_than_random_cells(tmp_path):
    """Six true labs (SYNTHETIC, seeded); the figures are averaged over them."""
    tracks = []
    for i, seed in enumerate(SEEDS):
        folder = tmp_path / f"lab{i}"
        folder.mkdir()
        tracks.append(simulate(seed, folder))

    def mean(name: str, key: str, rounds: slice) -> float:
        return float(np.mean([np.mean(t[name][key][rounds]) for t in tracks]))

    first, later, last = slice(0, 1), slice(1, None), slice(-1, None)
    for name in ("designed", "chance", "random"):
        print(name, {key: [round(float(np.mean([t[name][key][i] for t in tracks])), 3)
                           for i in range(len(tracks[0][name][key]))] for key in tracks[0][name]})
    # the posterior moves toward the truth, about as far as with random cells: held under every
    # reading of the paper (the default), the designed cells keep to the safer part of the space
    # and teach the lab's parameters about as much as cells spread at random over what looks
    # feasible (0.74 against 0.72 after three rounds; under the file's reading alone they taught more)
    assert mean("designed", "distance", last) < mean("designed", "distance", first)
    assert mean("designed", "distance", last) < 1.05 * mean("random", "distance", last)
    # the best truly feasible cell of a batch is better after three rounds than before, and than random cells
    assert mean("designed", "value", last) > mean("designed", "value", first)
    assert mean("designed", "value", later) > mean("random", "value", later)
    # The true rate of violated limits.  A campaign with limits on the posterior means proposes on
    # those limits, and some of the designs on a limit lie truly beyond it while the posterior is
    # wide: 0.08-0.21 a round over these labs with the limits held under every reading of the paper
    # (the default; 0.29-0.42 under the file's reading alone).  Holding the limits with probability
    # 0.9 as well (a chance constraint) breaks fewer (0.04-0.13); with six labs (24 cells a round)
    # the rate of one round moves by 0.04 per cell, too coarse to assert its trend within the
    # campaign, so the test asserts the difference the constraint makes over all rounds.
    assert mean("chance", "violations", slice(None)) < mean("designed", "violations", slice(None)) - 0.05
    assert mean("chance", "value", later) > mean("chance", "value", first) * 0.9
