"""Normalized scores on benchmark tasks, and the versioned file of every shipped algorithm's reference scores.

The score of an episode is

    score = 100 * (J_ref - J) / (J_ref - J_opt),

where J_opt is eGLB-Off's J on the same episode (the hindsight optimum: 100) and J_ref is GLB-Cost's
(the equity-oblivious cheapest routing, what an operator does without the equity penalty: 0). A
policy that is neither fairer nor cheaper than GLB-Cost scores below 0; no online policy reaches 100.
GLB-Cost is the reference because it is the natural equity-oblivious practice and is deterministic
and cheap to recompute on any episode (a pure LP per hour), so the score's zero never moves.
Scores are reported with the raw ratio J / J(eGLB-Off) and the PARs. Aggregates over episodes (and
training seeds) are means and interquartile means with 95 % stratified-bootstrap intervals
(:mod:`eglb.report.statistics`).

``reference_scores.json`` (package data beside this module) holds, for each task id, every reference
algorithm's J, ratio and PARs per test episode, plus J_ref and J_opt per episode: ``score(task,
results)`` scores a user's own results against it without rerunning the references, and
``python -m eglb.cli.scores`` (run by ``make figures``) regenerates it.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np

from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write_json, read_json
from eglb.evaluation import FORECAST_CONTROLLERS, PAST_CONTROLLERS, Mapper, check_specs, local_map
from eglb.registry import AlgorithmOptions
from eglb.tasks import Episode, Task, task

REFERENCE_FILE = Path(__file__).with_name("reference_scores.json")
FORMAT = "eglb-reference-scores/1"
#: Relative difference between a run's anchors (J of GLB-Cost and eGLB-Off) and the recorded ones
#: above which the run is not comparable with the reference scores (solver tolerance is far below).
ANCHOR_TOLERANCE = 1e-6
#: The reference policy of the score's zero.
REFERENCE = "glb-cost"
OPTIMUM = "eglb-off"
#: The algorithms recorded on every task (eGLB-Off and GLB-Cost anchor the score): the classical
#: baselines, eGLB, the hindsight optimum, RHC and AFHC with seasonal-day forecasts.
REFERENCE_ALGOS = (
    "glb-cost",
    "glb-carbon",
    "glb-water",
    "glb-dist",
    "eglb",
    "eglb-off",
    "rhc:w=24,forecaster=seasonal,tail=seasonal",
    "afhc:w=24,forecaster=seasonal,tail=seasonal",
)
#: The shipped tail group (forecasts/reference/, three training seeds) fitted for the regions of each
#: task's data: the 14 zones (history and its generator) or the published set's 10 regions.
REFERENCE_TAIL_GROUPS = {
    "history14": "reference:history14",
    "synthetic14": "reference:history14",
    "eglb2022": "reference:published10",
    "synthetic": "reference:published10",
}
#: The layer's budget in the learning-augmented references: chosen on weeks 8 and 24 of 2023 (the
#: selection year) among 0.02, 0.05 and 0.1 (docs/results/learned-vs-classical.md).
LEARNED_LAMBDA = 0.1


def learned_references(chosen: Task) -> tuple[str, ...]:
    """The learning-augmented reference policies of a task, with the same information as the strongest
    classical controller (FORECAST_CONTROLLERS[0]: the markets' published prices, seasonal-day forecasts
    of the rest): RHC whose tail is learned (the task's reference tail group: one row per training
    seed), and the layer around it with that classical RHC as its expert (J <= (1 + lambda) J(RHC) + B)."""
    group = REFERENCE_TAIL_GROUPS[chosen.card()["data"]]
    learned = f"rhc:w=24,forecaster=market,base=seasonal,tail=learned,tail_model={group}"
    kind, _, settings = FORECAST_CONTROLLERS[0].partition(":")
    return (learned, f"robust({learned},lambda={LEARNED_LAMBDA:g},expert={kind}({settings}))")


def figures_algos(chosen: Task) -> tuple[str, ...]:
    """What ``make figures`` records on a task: the reference algorithms, RHC and AFHC with the default
    information (eglb.evaluation.FORECAST_CONTROLLERS), RHC reading the observed past on the tasks whose
    episodes carry it (the history's: PAST_CONTROLLERS), and the learning-augmented references."""
    past = PAST_CONTROLLERS if chosen.card()["data"] == "history14" else ()
    return (*REFERENCE_ALGOS, *FORECAST_CONTROLLERS, *past, *learned_references(chosen))


def normalized_score(J, J_ref, J_opt) -> np.ndarray:
    """100 (J_ref - J) / (J_ref - J_opt), elementwise (arrays of the same shape, USD)."""
    J, J_ref, J_opt = (np.asarray(v, dtype=float) for v in (J, J_ref, J_opt))
    span = J_ref - J_opt
    if np.any(span <= 0):
        raise InputError("an episode's reference J equals its optimum: the normalized score is undefined there")
    return 100.0 * (J_ref - J) / span


# ------------------------------------------------------------------------------------ running
def episode_rows(specs: Sequence[str], options: AlgorithmOptions, episode: Episode) -> list[dict]:
    """Every spec (plus GLB-Cost and eGLB-Off, which anchor the score) on one episode: one row per spec
    and training seed (a run group or tail group has one per seed, ``seed`` set; else ``seed`` None)."""
    from eglb.evaluation import run_case

    anchors = [s for s in (REFERENCE, OPTIMUM) if s not in specs]
    results, offline_J = run_case(list(specs) + anchors, options, episode.case)
    J_ref = next(r.metrics.J for r in results if r.name == REFERENCE)
    hours = episode.case.scenario.n_hours
    rows = []
    for result in results[: len(results) - len(anchors)]:  # a group's seeds are one result each
        m = result.metrics
        rows.append(
            {
                "episode": episode.id,
                "algo": result.name,
                "seed": result.seed,
                "J": m.J,
                "J_ref": J_ref,
                "J_opt": offline_J,
                "score": float(normalized_score(m.J, J_ref, offline_J)),
                "ratio_to_offline": m.J / offline_J,
                "cost": m.cost,
                "par_water": m.par_water,
                "par_carbon": m.par_carbon,
                "ms_per_hour": 1000.0 * result.decision_seconds / hours,  # the same measure as every result row
                "information": result.information,
                **{k: v for k, v in result.extra.items() if k in ("bound", "followed_share", "unrepaired_actions")},
            }
        )
    return rows


def run_task(
    chosen: Task,
    specs: Sequence[str],
    options: AlgorithmOptions | None = None,
    mapper: Mapper | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Every spec on every test episode of a task (one mapped item per episode): rows as :func:`episode_rows`."""
    options = options or AlgorithmOptions()
    check_specs(specs, options)  # a bad spec (or a group's member) fails before any episode is built
    episodes = chosen.test_episodes()
    if progress:
        progress(f"{chosen.id}: {len(specs)} algorithms on {len(episodes)} test episodes")
    per_episode = (mapper or local_map)(partial(episode_rows, tuple(specs), options), episodes)
    return [row for rows in per_episode for row in rows]


# ----------------------------------------------------------------------------------- scoring
def summary_row(rows: Sequence[dict], seed: int = 0) -> dict:
    """One algorithm's rows (one per episode, per training seed if several) summarized: score mean and
    IQM with 95 % intervals over seeds and episodes, and the mean ratio and PARs."""
    from eglb.report.statistics import aggregate, rows_matrix

    scores, seeds, episodes = rows_matrix(rows, "score", "episode")
    found = aggregate(scores, seed=seed)
    return {
        "score": found.mean,
        "score_ci_low": found.mean_ci[0],
        "score_ci_high": found.mean_ci[1],
        "score_iqm": found.iqm,
        "score_iqm_ci_low": found.iqm_ci[0],
        "score_iqm_ci_high": found.iqm_ci[1],
        "ratio_to_offline": float(np.mean([r["ratio_to_offline"] for r in rows])),
        "ratio_worst": float(np.max([r["ratio_to_offline"] for r in rows])),
        "par_water": float(np.mean([r["par_water"] for r in rows])),
        "par_carbon": float(np.mean([r["par_carbon"] for r in rows])),
        "ms_per_hour": float(np.mean([r["ms_per_hour"] for r in rows])) if all("ms_per_hour" in r for r in rows) else None,
        "information": rows[0].get("information", "not declared"),
        "episodes": len(episodes),
        "seeds": len(seeds),
    }


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Per algorithm (in order of appearance), :func:`summary_row`."""
    algos = list(dict.fromkeys(r["algo"] for r in rows))
    return [{"algo": a, **summary_row([r for r in rows if r["algo"] == a])} for a in algos]


def score(task_id: str, results, reference: Mapping | None = None) -> dict:
    """Score a user's own results on a task against its recorded references.

    Args:
        task_id: the task (``history14-2024-weekly-v1``).
        results: either a mapping ``episode id -> J`` (one policy, one seed) or rows (dicts) with
            ``episode`` and ``J`` and optionally ``seed`` (training seeds: the interval covers them).
            Every test episode of the task must be present (``eglb.tasks.task(id).card()`` lists the split).
        reference: the reference file's content (default: the shipped ``reference_scores.json``).

    Returns the summary (score mean and IQM with 95 % intervals, ratio to the optimum, episodes, seeds).
    """
    chosen = task(task_id)
    anchors = reference_anchors(chosen.id, reference)
    if isinstance(results, Mapping):
        rows = [{"episode": e, "J": j} for e, j in results.items()]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        rows = [dict(r) for r in results]
    else:
        raise InputError(f"results must be a mapping episode -> J or a list of rows, got {type(results).__name__}")
    for k, row in enumerate(rows):
        if not isinstance(row.get("episode"), str) or row["episode"] not in anchors:
            raise InputError(f"result {k}: episode {row.get('episode')!r} is not a test episode of {chosen.id}")
        J = row.get("J")
        if isinstance(J, bool) or not isinstance(J, int | float) or not np.isfinite(J):
            raise InputError(f"result {k} (episode {row['episode']}): J must be a finite number, got {J!r}")
        J_ref, J_opt = anchors[row["episode"]]
        row.update(J_ref=J_ref, J_opt=J_opt, score=float(normalized_score(J, J_ref, J_opt)), ratio_to_offline=J / J_opt)
        row.setdefault("par_water", float("nan"))
        row.setdefault("par_carbon", float("nan"))
    missing = sorted(set(anchors) - {r["episode"] for r in rows})
    if missing:
        raise InputError(f"results miss {len(missing)} test episodes of {chosen.id}, e.g. {missing[0]!r}")
    summary = summary_row(rows)
    for key in ("par_water", "par_carbon"):
        if np.isnan(summary[key]):
            summary[key] = None
    return {"task": chosen.id, **summary}


# ------------------------------------------------------------------------------ the reference file
def load_reference(path: str | Path | None = None) -> dict:
    """The reference scores file (default the shipped one)."""
    path = Path(path) if path is not None else REFERENCE_FILE
    if not path.exists():
        raise InputError(f"{path}: no reference scores yet (python -m eglb.cli.scores writes them)")
    content = read_json(path, "reference scores file")
    if content.get("format") != FORMAT:
        raise InputError(f"{path} is not a reference scores file of format {FORMAT}")
    return content


def reference_anchors(task_id: str, reference: Mapping | None = None) -> dict[str, tuple[float, float]]:
    """episode id -> (J_ref, J_opt) recorded for a task."""
    content = reference if reference is not None else load_reference()
    recorded = content.get("tasks", {}).get(task_id)
    if recorded is None:
        raise InputError(f"no reference scores are recorded for task {task_id} (python -m eglb.cli.scores --tasks {task_id})")
    return {e["episode"]: (e["J_ref"], e["J_opt"]) for e in recorded["episodes"]}


def anchor_drift(anchors: Mapping[str, tuple[float, float]], rows: Sequence[dict]) -> str | None:
    """The first episode of ``rows`` whose J of GLB-Cost or eGLB-Off differs from the recorded
    ``anchors`` (episode -> (J_ref, J_opt)) by more than ANCHOR_TOLERANCE, relative; None when all agree."""
    for row in rows:
        J_ref, J_opt = anchors.get(row["episode"], (None, None))
        if (
            J_ref is None
            or abs(row["J_ref"] - J_ref) > ANCHOR_TOLERANCE * abs(J_ref)
            or abs(row["J_opt"] - J_opt) > ANCHOR_TOLERANCE * abs(J_opt)
        ):
            return row["episode"]
    return None


def task_reference(chosen: Task, rows: Sequence[dict], seconds: float) -> dict:
    """The reference file's entry of one task: per episode its anchors, per algorithm its rows and summary."""
    episodes = list(dict.fromkeys(r["episode"] for r in rows))
    first = {e: next(r for r in rows if r["episode"] == e) for e in episodes}
    return {
        "card": chosen.card(),
        "seconds": round(seconds, 1),
        "episodes": [{"episode": e, "J_ref": first[e]["J_ref"], "J_opt": first[e]["J_opt"]} for e in episodes],
        "algorithms": {
            row["algo"]: {**row, **_per_episode([r for r in rows if r["algo"] == row["algo"]])} for row in summarize(rows)
        },
    }


def _per_episode(rows: Sequence[dict]) -> dict:
    """An algorithm's recorded rows: ``per_episode`` (episode -> values) for one run, ``per_seed`` (seed ->
    episode -> values) for the training seeds of a group."""
    keep = ("J", "score", "ratio_to_offline", "par_water", "par_carbon", "ms_per_hour")
    seeds = list(dict.fromkeys(r.get("seed") for r in rows))
    if seeds == [None]:
        return {"per_episode": {r["episode"]: {k: r[k] for k in keep} for r in rows}}
    return {"per_seed": {str(s): {r["episode"]: {k: r[k] for k in keep} for r in rows if r.get("seed") == s} for s in seeds}}


def regenerate(
    task_ids: Sequence[str],
    specs: Sequence[str] = REFERENCE_ALGOS,
    path: str | Path | None = None,
    mapper: Mapper | None = None,
    progress: Callable[[str], None] | None = print,
    add: bool = False,
) -> dict:
    """Recompute the reference scores of ``task_ids`` and write them into the file (other tasks' entries kept).

    With ``add``, ``specs`` join the algorithms recorded on each task (a recorded algorithm of the same
    name is replaced), provided this run's anchors (J of GLB-Cost and eGLB-Off on every episode) equal
    the recorded ones: scores measured by different versions of the code or data are never mixed.
    """
    path = Path(path) if path is not None else REFERENCE_FILE
    try:
        content = load_reference(path)
    except InputError:
        if add:
            raise
        content = {"format": FORMAT, "tasks": {}}
    for task_id in task_ids:
        chosen = task(task_id)
        recorded = content["tasks"].get(chosen.id)
        if add and recorded is None:
            raise InputError(f"{path} records nothing for {chosen.id} to add to: regenerate the task without --add first")
        started = time.perf_counter()
        rows = run_task(chosen, specs, mapper=mapper, progress=progress)
        entry = task_reference(chosen, rows, time.perf_counter() - started)
        if add:
            drifted = anchor_drift({e["episode"]: (e["J_ref"], e["J_opt"]) for e in recorded["episodes"]}, rows)
            if drifted is not None or len(entry["episodes"]) != len(recorded["episodes"]):
                raise InputError(
                    f"{chosen.id}: GLB-Cost or eGLB-Off on episode {drifted} differ from the recorded ones (another code "
                    "or data version): regenerate the whole task (without --add), bumping its version if its scores changed"
                )
            entry = {
                **recorded,
                "seconds": round(recorded["seconds"] + entry["seconds"], 1),
                "algorithms": {**recorded["algorithms"], **entry["algorithms"]},
            }
        content["tasks"][chosen.id] = entry
        content.update(
            measured=str(date.today()),
            machine=f"{platform.machine()}, {platform.processor() or platform.system()}",
            eglb_version=metadata.version("eglb"),
        )
        atomic_write_json(path, content)  # after every task: an interrupted regeneration keeps what it measured
        if progress:
            progress(f"{chosen.id}: written ({time.perf_counter() - started:.0f} s)")
    return content
