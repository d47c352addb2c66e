"""Several training seeds as one run group: ``train_seeds(config, seeds)`` trains them and reports across them.

    group = eglb.train_seeds(eglb.training_config("bc"), seeds=(0, 1, 2), folder="runs/bc3")
    print(group)                           # held-out J / J(eGLB-Off): mean and IQM with 95 % intervals
    eglb.evaluate(eglb.EvaluationConfig(algos=("bc:runs/bc3", "eglb"), ...))   # every seed, aggregated

``train.py --seeds 0-2`` is a thin wrapper. The seeds run one after another in this process, or as
Ray Tune trials (``address``: a local Ray or a cluster; eglb/tuning.py). Each seed is an ordinary run
folder ``GROUP/seed-K`` (resumable, locked, with its policy card); the group folder adds the report
across seeds (training/run_group.py lists the files): the learning curves' mean with a 95 % band, and
per algorithm the mean and the interquartile mean of held-out J / J(eGLB-Off) over seeds x held-out
scenarios with 95 % stratified-bootstrap intervals (report/statistics.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from eglb.envs.errors import InputError
from eglb.envs.files import exclusive_lock
from eglb.trainer import default_run_name, train
from eglb.training.config import RunConfig
from eglb.training.run_folder import RunFolder, check_run_name
from eglb.training.run_group import RunGroup, check_seeds, is_finished, new_group, read_group


def seeds_label(seeds) -> str:
    """'0-2' for consecutive seeds, '0+3+7' otherwise (a folder name's part)."""
    seeds = list(seeds)
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return "+".join(str(s) for s in seeds)


def default_group_name(config: RunConfig, seeds) -> str:
    """``ALGO-DATA-sSEEDS`` (e.g. ``bc-synthetic-s0-2``): the single run's default name with every seed."""
    single = default_run_name(config)
    return check_run_name(single[: single.rindex("-s")] + f"-s{seeds_label(seeds)}")


@dataclass(repr=False)
class GroupSummary:
    """What training a run group did.

    Attributes:
        folder: the group folder. algo: the algorithm. seeds: the training seeds.
        seconds: wall-clock time of this call. trained: the seeds this call trained (the others were finished).
        rows: every seed's held-out comparison (``seed`` and ``scenario`` columns; the classical
            algorithms once per scenario). summary: per algorithm, the mean and IQM of J / J(eGLB-Off)
            over seeds x held-out scenarios with 95 % intervals. curves: seed -> its evaluation rows.
        files: the group's report files.
    """

    folder: Path
    algo: str
    seeds: tuple[int, ...]
    seconds: float
    trained: tuple[int, ...]
    rows: list[dict]
    summary: list[dict]
    curves: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"GroupSummary({self.algo} in {self.folder}: seeds {seeds_label(self.seeds)}, {self.seconds:.0f} s)"

    def __str__(self) -> str:
        from eglb.evaluation import summary_text

        return f"{self!r}\nheld-out J / J(eGLB-Off), {summary_text(self.rows, self.summary)}"


def train_seeds(
    config: RunConfig | None = None,
    seeds=(),
    folder: str | Path | None = None,
    *,
    resume: bool = False,
    timesteps: int | None = None,
    out: str | Path = "runs",
    progress: bool = False,
    torch_threads: int = 1,
    label_mapper=None,
    address: str | None = None,
) -> GroupSummary:
    """Train ``config`` once per seed into a run group, then report across the seeds.

    Args:
        config: the configuration every seed shares (its own ``seed`` is replaced); None with ``resume``.
        seeds: the training seeds (distinct whole numbers >= 0).
        folder: the group folder (default ``out/ALGO-DATA-sSEEDS``); with ``resume``, the group to continue.
        resume: continue the group: unfinished seeds from their last checkpoint, missing ones from the start.
        timesteps: with ``resume``, a new total of environment steps for every seed.
        progress, torch_threads, label_mapper: as :func:`eglb.train` (seeds trained in this process).
        address: None trains the seeds one after another in this process; "local" (a Ray started for
            the call), "auto" or an address runs them as Ray Tune trials (eglb.tuning.tune_seeds).
    """
    start = time.perf_counter()
    if resume:
        if folder is None:
            raise InputError("resuming a run group needs its folder")
        group = read_group(folder)
        if timesteps is not None:
            group = replace(group, config=replace(group.config, timesteps=timesteps))
    else:
        if config is None:
            raise InputError("train_seeds needs a configuration (training_config(...)) or resume=True with a group folder")
        seeds = check_seeds(seeds)
        folder = Path(out) / default_group_name(config, seeds) if folder is None else Path(folder)
        group = new_group(folder, config, seeds)
    with exclusive_lock(group.path, "a run group"):
        if resume and timesteps is not None:
            group.save()
        todo = tuple(seed for seed, path in group.members() if not is_finished(path, group.config.timesteps))
        if todo and address is None:
            for seed in todo:
                path = group.folder(seed)
                again = path.is_dir() and bool(RunFolder(path).checkpoints())
                if progress:
                    print(f"seed {seed} of {seeds_label(group.seeds)}: {path}")
                train(
                    None if again else group.member_config(seed),
                    path,
                    resume=again,
                    timesteps=group.config.timesteps if again else None,
                    progress=progress,
                    torch_threads=torch_threads,
                    label_mapper=label_mapper,
                )
        elif todo:
            from eglb.tuning import tune_seeds

            tune_seeds(group, todo, address, verbose=progress)
        rows, summary, curves, files = report_group(group)
    return GroupSummary(
        group.path, group.config.algo, group.seeds, time.perf_counter() - start, todo, rows, summary, curves, files
    )


def group_rows(group: RunGroup) -> list[dict]:
    """Every seed's held-out comparison (its results.json): the trained policy's rows named after the
    group (``KIND:GROUP``) with their seed, the classical algorithms' rows once per held-out scenario
    (the held-out scenarios do not depend on the training seed)."""
    name = f"{group.config.algo}:{group.path}"
    rows, seen = [], set()
    for seed, path in group.members():
        results = path / "results.json"
        if not results.is_file():
            raise InputError(f"seed {seed} of run group {group.path} has not finished: {results} is missing")
        try:
            member = json.loads(results.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{results} is not valid JSON: {exc}") from None
        for row in member:
            if row["algo"].partition(":")[0] == group.config.algo:  # the trained policy (first of each scenario)
                rows.append({**row, "algo": name, "seed": seed})
            elif (row["algo"], row["scenario"]) not in seen:
                seen.add((row["algo"], row["scenario"]))
                rows.append({**row, "seed": None})
    order = {a: k for k, a in enumerate(dict.fromkeys(r["algo"] for r in rows))}
    return sorted(rows, key=lambda r: order[r["algo"]])


def report_group(group: RunGroup) -> tuple[list[dict], list[dict], dict, list[Path]]:
    """Write the group's report across seeds (results, summary, curves, the learning curve with its
    band); returns (rows, summary, curves, files)."""
    import pandas as pd

    from eglb.envs.files import atomic_write
    from eglb.report.plots import plot_group_curve
    from eglb.report.tables import mean_rows, write_rows

    rows = group_rows(group)
    summary = mean_rows(rows)
    curves = {seed: RunFolder(path).eval_history() for seed, path in group.members()}
    table = pd.DataFrame([{"seed": seed, **row} for seed, history in curves.items() for row in history])
    files = write_rows(rows, group.path, "results") + write_rows(summary, group.path, "summary")
    files.append(atomic_write(group.path / "curves.csv", lambda tmp: table.to_csv(tmp, index=False)))
    files += plot_group_curve(
        curves,
        group.path / "learning_curve.png",
        f"Learning curves of {group.path.name}: {len(group.seeds)} seeds, held-out J / J(eGLB-Off)",
        kind=group.config.algo,
    )
    return rows, summary, curves, files
