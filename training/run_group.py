"""A run group: training runs that differ only in their seed, in one folder, evaluated and reported together.

``train.py --seeds 0-2 --name NAME`` trains one run folder per seed (training/run_folder.py) inside
the group folder; ``evaluate.py --algos bc:runs/NAME`` evaluates every seed of it. Layout::

    group.json                  the group's card: stamp, seeds, the configuration (its seed is the first
                                seed's) and the command line
    seed-0/, seed-1/, ...       one run folder per seed (resumable, locked, checked as any run folder)
    tune/                       Ray Tune's state when the seeds ran as Tune trials (``--ray``)
    curves.csv                  every seed's periodic evaluations (a ``seed`` column)
    learning_curve.png (.pdf)   the mean held-out J / J(eGLB-Off) across seeds with a 95 % band
    results.json/.csv           every seed's held-out comparison (``seed`` and ``scenario`` columns)
    summary.json/.csv           per algorithm: mean and IQM of J / J(eGLB-Off) over seeds x held-out
                                scenarios, each with a 95 % stratified-bootstrap interval

A run is *finished* when it has its held-out comparison (``results.json``) and a checkpoint at its
configured number of steps; resuming a group continues the unfinished seeds and starts the missing ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from eglb.envs.artifacts import check_stamp, stamp
from eglb.envs.errors import InputError, existing_folder
from eglb.envs.files import atomic_write_json, read_json
from eglb.training.config import RunConfig
from eglb.training.run_folder import RunFolder

GROUP_FILE = "group.json"
GROUP_FORMAT = "eglb-run-group"
GROUP_VERSION = 1
#: Seeds one group may hold (each is a whole training run).
MAX_SEEDS = 100


def member_name(seed: int) -> str:
    """The run folder of ``seed`` inside a group."""
    return f"seed-{int(seed)}"


def is_run_group(path: Path | str) -> bool:
    """True when ``path`` is a group folder (it holds group.json)."""
    return (Path(path) / GROUP_FILE).is_file()


@dataclass(frozen=True)
class RunGroup:
    """A group folder and what its card says.

    Attributes:
        path: the group folder. seeds: the training seeds, in order. config: the shared configuration
        (each member is it with its own seed). command: the command line that started the group.
    """

    path: Path
    seeds: tuple[int, ...]
    config: RunConfig
    command: str = ""

    def folder(self, seed: int) -> Path:
        return self.path / member_name(seed)

    def members(self) -> list[tuple[int, Path]]:
        """(seed, run folder) of every seed, in order (a folder may not exist yet)."""
        return [(seed, self.folder(seed)) for seed in self.seeds]

    def member_config(self, seed: int) -> RunConfig:
        return replace(self.config, seed=int(seed))

    def save(self) -> Path:
        return atomic_write_json(
            self.path / GROUP_FILE,
            {
                **stamp(GROUP_FORMAT, GROUP_VERSION),
                "seeds": list(self.seeds),
                "config": self.config.to_dict(),
                "command": self.command,
            },
        )


def check_seeds(seeds) -> tuple[int, ...]:
    """Distinct whole seeds >= 0, at most MAX_SEEDS of them."""
    seeds = tuple(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise InputError(f"a run group needs training seeds that are whole numbers >= 0, got {list(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise InputError(f"the training seeds {list(seeds)} repeat a seed")
    if len(seeds) > MAX_SEEDS:
        raise InputError(f"a run group holds at most {MAX_SEEDS} seeds, got {len(seeds)}")
    return seeds


def read_group(path: Path | str) -> RunGroup:
    """The group in ``path``, with a clear error if it is not one."""
    folder = existing_folder(path, "run group")
    card = folder / GROUP_FILE
    if not card.is_file():
        raise InputError(f"{folder} is not a run group: it has no {GROUP_FILE}")
    values = check_stamp(read_json(card, "run group card"), GROUP_FORMAT, GROUP_VERSION, card)
    seeds = values.get("seeds")
    if not isinstance(seeds, list):
        raise InputError(f"{card}: seeds must be a list of whole numbers, got {seeds!r}")
    try:
        seeds = check_seeds(seeds)
    except InputError as exc:
        raise InputError(f"{card}: {exc}") from None
    command = values.get("command", "")
    return RunGroup(folder, seeds, RunConfig.from_dict(values.get("config"), card), command if isinstance(command, str) else "")


def new_group(path: Path | str, config: RunConfig, seeds, command: str = "") -> RunGroup:
    """Create a group folder for ``config`` trained with each of ``seeds`` (the folder must not hold
    anything yet but a failed start of the same group)."""
    seeds = check_seeds(seeds)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} exists and is not a folder")
    if path.is_dir():
        if is_run_group(path):
            raise InputError(f"run group {path} exists: continue it with --resume {path} or choose another --name")
        if any(path.iterdir()):
            raise InputError(f"{path} exists and is not an empty folder: choose another --name")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create run group folder {path}: {exc.strerror}") from None
    group = RunGroup(path, seeds, replace(config, seed=seeds[0]), command or config.command)
    group.save()
    return group


def is_finished(folder: Path, timesteps: int) -> bool:
    """True when the run in ``folder`` has a checkpoint at ``timesteps`` steps or later and wrote its
    held-out comparison (results.json, written last by training)."""
    if not (folder / "config.yaml").is_file() or not (folder / "results.json").is_file():
        return False
    found = RunFolder(folder).checkpoints()
    return bool(found) and found[-1][0] >= timesteps


def member_specs(kind: str, path: Path | str) -> list[tuple[int, str]]:
    """(seed, ``KIND:RUN_FOLDER``) of every member of the group in ``path``: every seed must hold a
    trained policy (results over the seeds that happen to be done would not be the group's)."""
    group = read_group(path)
    for seed, folder in group.members():
        if not (folder / "policy.json").is_file():
            raise InputError(
                f"seed {seed} of run group {group.path} has no trained policy yet: train it with train.py --resume {group.path}"
            )
    return [(seed, f"{kind}:{folder}") for seed, folder in group.members()]
