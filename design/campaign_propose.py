"""How a campaign chooses a round's batch (:meth:`nassb.design.campaign.Campaign.propose`): its
options checked, an in-memory design search under the current posterior, and the batch drawn from
the search's feasible designs, best first, a few chosen for their expected gain, all apart."""

from __future__ import annotations

import math
from pathlib import Path

from ..priors import OptionError
from . import study_store
from .acquisition import expected_gains
from .acquisition import explore as explore_batch
from .study import make_objective, make_sampler


def checked_options(k, out, trials, diversity, explore) -> Path | None:
    """The folder of the proposal cards (None: none); an OptionError naming a bad option."""
    for label, value, minimum in (("k", k, 1), ("trials", trials, 10)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise OptionError(f"must be a whole number >= {minimum}, got {value!r}", field=label)
    if not (isinstance(diversity, (int, float)) and 0 <= diversity < 1):
        raise OptionError(f"must lie in [0, 1), got {diversity!r}", field="diversity")
    if isinstance(explore, bool) or not isinstance(explore, int) or explore < 0:
        raise OptionError(f"must be a whole number >= 0, got {explore!r}", field="explore")
    folder = Path(out) if out is not None else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise OptionError(f"{folder} exists and is not a folder", field="out")
    return folder


def search(space, scorer, settings, ranges: dict, trials: int, seed: int | None, progress: bool) -> list[dict]:
    """The feasible designs of an in-memory search, best first: the decision's deterministic
    optimum (:func:`nassb.design.optimum.best_design`, the first design of ``nassb design`` and
    ``nassb next-experiment`` too), then the other feasible designs of ``trials`` Optuna trials
    (TPE, started from the optimum, with the design's local refinement) by their objective."""
    import optuna

    from .optimum import best_design
    from .refine import refine as refine_best
    from .run import refine_budget
    from .study import _quiet_optuna

    _quiet_optuna()
    study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed, False))
    optimum = best_design(scorer, space, settings, ranges)
    if optimum.design is not None:
        study.enqueue_trial(optimum.design)
    objective = make_objective(space, scorer, settings, ranges)
    local = refine_budget(None, trials, None)
    study.optimize(objective, n_trials=trials - local, show_progress_bar=progress)
    if local:
        ran = refine_best(study, space, objective, local)
        if ran < local:
            study.optimize(objective, n_trials=local - ran)
    feasible = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE
                and study_store.feasible_of(t)]
    feasible.sort(key=lambda t: -(t.value if t.value is not None else -math.inf))
    found = [study_store.design_of(t) for t in feasible]
    if optimum.design is None:
        return found
    return [optimum.design, *[d for d in found if d != optimum.design]]


def batch(scorer, settings, space, candidates: list[dict], building: list[dict], k: int, diversity: float,
          explore: int, notes: list[str]) -> tuple[list[dict], list[bool], list[float]]:
    """The ``k`` designs to build (each ``diversity`` apart from the others and from those
    ``building``), whether each was chosen for exploration, and each one's expected gain; what
    could not be found is said in ``notes``."""
    exploring = min(explore, k - 1)

    def far_enough(design: dict, chosen: list[dict]) -> bool:
        return all(space.distance(design, c) >= diversity for c in chosen + building)

    chosen: list[dict] = []
    for d in candidates:
        if far_enough(d, chosen):
            chosen.append(d)
        if len(chosen) == k - exploring:
            break
    gains = expected_gains(scorer, settings, chosen)
    explored = explore_batch(scorer, settings, chosen, candidates, exploring, far_enough) if chosen else []
    labels = [False] * len(chosen) + [True] * len(explored)
    gains += [g for _, g in explored]
    chosen += [d for d, _ in explored]
    if exploring and len(explored) < exploring:
        notes.append(f"{len(explored)} of {exploring} exploration cell(s) found: no other feasible design "
                     f"{diversity:g} apart from the batch promises a gain")
    for d in candidates:  # fill what exploration left open with the next best
        if len(chosen) == k:
            break
        if far_enough(d, chosen):
            gains.append(expected_gains(scorer, settings, [*chosen, d])[-1])
            chosen.append(d)
            labels.append(False)
    if len(chosen) < k:
        notes.append(f"only {len(chosen)} of {k} distinct feasible designs found (diversity {diversity:g}); "
                     "run more trials or relax the limits")
    return chosen, labels, gains
