"""The run folder: one training run's configuration, policy, logs and checkpoints, safe against neighbours and kills.

Layout (written by training, read by ``eglb.robust.learned.load_learned`` and ``--resume``)::

    config.yaml, command.txt        the exact configuration (stamped) and the command line
    policy.json                     the policy card (agents/learned.py)
    policy.pt, best_policy.pt       latest and best weights (torch state dicts)
    eval.csv, learning_curve.png    periodic evaluation on held-out traces
    evaluations.npz                 the same in stable-baselines3's EvalCallback format (rl-zoo3's plots read it)
    progress.csv, progress-2.csv..  training logs (one per start), tb/ TensorBoard events
    checkpoint-<steps>/             the last complete checkpoint (checkpoint.json is written last, with the
                                    training seconds spent until then, summed over every start of the run)
    results.json/.csv, summary.*    the trained policy next to the classical algorithms
    .lock                           held while a process works in the folder

Guarantees: a run name is a plain folder name (never a path); a second process on the same folder is
refused (a lock); a folder with symbolic links is refused; a start that fails before its first
checkpoint removes the folder it created (or a rerun reuses it); after ``kill -9``, ``--resume``
continues from the last complete checkpoint and trims what came after it (evaluation rows,
temporary files, unfinished checkpoints).
"""

from __future__ import annotations

import math
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml
from eglb.envs.artifacts import check_stamp, stamp
from eglb.envs.errors import InputError, existing_folder
from eglb.envs.files import (
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    exclusive_lock,
    read_json,
    read_yaml,
    remove_temporaries,
    require_no_symlinks,
)
from eglb.envs.limits import MAX_STEPS, check_size
from eglb.training.config import RunConfig
from eglb.training.run_log import trim_progress_logs

CHECKPOINT_FORMAT = "eglb-checkpoint"
CHECKPOINT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]*$")
#: Files a run folder may hold before its first checkpoint; a folder with only these is a failed start.
_START_FILES = {
    "config.yaml",
    "command.txt",
    "policy.json",
    "eval.csv",
    "evaluations.npz",
    "learning_curve.png",
    "learning_curve.pdf",
    ".lock",
    ".worker-error",
    "tb",
}


def check_run_name(name: str) -> str:
    """A run name is one plain folder name: letters, digits and . _ + = @ - (no slash, no ..)."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", "..") or len(name) > 200:
        raise InputError(f"--name must be a plain folder name (letters, digits, . _ + = @ -), got {name!r}")
    return name


class RunFolder:
    """A run folder in use by this process (see the module docstring). Use :func:`open_run`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._started = time.perf_counter()
        #: Training seconds of earlier starts, up to the checkpoint this start resumed from (None: not recorded).
        self._seconds_before: float | None = 0.0

    def training_seconds(self) -> float | None:
        """Seconds spent training this run: this start's so far plus those of the earlier starts up to
        the checkpoint it resumed from (None when that checkpoint predates the record)."""
        if self._seconds_before is None:
            return None
        return self._seconds_before + time.perf_counter() - self._started

    # --------------------------------------------------------------------------- configuration
    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    def write_config(self, config: RunConfig) -> None:
        atomic_write_text(self.config_path, yaml.safe_dump(config.to_dict(), sort_keys=False))
        atomic_write_text(self.path / "command.txt", config.command + "\n")

    def read_config(self) -> RunConfig:
        return read_run_config(self.path)

    # --------------------------------------------------------------------------- checkpoints
    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints, oldest first, as (steps, folder)."""
        found = []
        for folder in self.path.glob("checkpoint-*"):
            info = folder / "checkpoint.json"
            if folder.is_dir() and info.is_file() and folder.name[len("checkpoint-") :].isdigit():
                found.append((int(folder.name[len("checkpoint-") :]), folder))
        return sorted(found)

    def latest_checkpoint(self) -> tuple[dict, Path] | None:
        """The newest complete checkpoint's info and folder, or None."""
        found = self.checkpoints()
        if not found:
            return None
        folder = found[-1][1]
        path = folder / "checkpoint.json"
        info = check_stamp(read_json(path, "checkpoint info"), CHECKPOINT_FORMAT, CHECKPOINT_VERSION, path)
        check_size(info.get("steps"), f"{path}: steps", MAX_STEPS, low=0)
        return info, folder

    def checkpoint_folder(self, steps: int) -> Path:
        """A fresh folder for the checkpoint at ``steps`` (an unfinished one of the same steps is replaced)."""
        folder = self.path / f"checkpoint-{int(steps)}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def finish_checkpoint(self, folder: Path, steps: int, **info) -> None:
        """Mark a checkpoint complete (its checkpoint.json, written last) and drop the older ones.

        The run's best weights so far go into the checkpoint too, so that resuming restores the best
        weights that belong to the evaluation history it keeps; so do the training seconds so far, so
        that a resumed run reports the time of all its starts (not only the last one's).
        """
        best = self.path / "best_policy.pt"
        if best.is_file():
            atomic_write(folder / "best_policy.pt", lambda tmp: shutil.copyfile(best, tmp))
        seconds = self.training_seconds()
        atomic_write_json(
            folder / "checkpoint.json",
            {
                **stamp(CHECKPOINT_FORMAT, CHECKPOINT_VERSION),
                "steps": int(steps),
                **({} if seconds is None else {"training_seconds": seconds}),
                **info,
            },
        )
        for _, older in self.checkpoints()[:-1]:
            shutil.rmtree(older, ignore_errors=True)

    def trim_to_checkpoint(self) -> tuple[dict, Path] | None:
        """Before resuming: forget what came after the last complete checkpoint (all of it if there is none).

        Every step is idempotent, so a kill during the trim itself is repaired by the next resume: the
        evaluation history and the training logs keep their header and their rows up to the
        checkpoint; the best weights are the checkpoint's (none without a checkpoint).
        """
        remove_temporaries(self.path)
        latest = self.latest_checkpoint()
        complete = {folder for _, folder in self.checkpoints()}
        for folder in self.path.glob("checkpoint-*"):
            if folder.is_dir() and folder not in complete:
                shutil.rmtree(folder)
        steps = latest[0]["steps"] if latest else 0
        history = self.eval_frame()
        if history is not None:
            kept = history[history["steps"] <= steps]
            if len(kept) != len(history):
                self._write_eval_frame(kept)
        trim_progress_logs(self.path, steps)
        if latest is None:  # weights of evaluations that no checkpoint covers: training restarts from scratch
            for name in ("best_policy.pt", "policy.pt"):
                (self.path / name).unlink(missing_ok=True)
        elif (latest[1] / "best_policy.pt").is_file():
            atomic_write(self.path / "best_policy.pt", lambda tmp: shutil.copyfile(latest[1] / "best_policy.pt", tmp))
        self._seconds_before = 0.0 if latest is None else _recorded_seconds(latest[0], latest[1] / "checkpoint.json")
        return latest

    # --------------------------------------------------------------------------- evaluation history
    def eval_frame(self) -> pd.DataFrame | None:
        """The evaluation history as a table (None without eval.csv); its ``steps`` are whole numbers >= 0.

        A file with nothing in it (not even a header: an earlier release trimmed it so after a kill)
        is an empty history, not an error.
        """
        path = self.path / "eval.csv"
        if not path.is_file():
            return None
        if path.stat().st_size < 64 and not path.read_bytes().strip():
            return pd.DataFrame({"steps": [], "ratio_to_offline": []})
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not a readable evaluation history: {str(exc).strip()}") from None
        if "steps" not in frame.columns or "ratio_to_offline" not in frame.columns:
            raise InputError(f"{path} is not an evaluation history (it needs columns steps and ratio_to_offline)")
        steps = pd.to_numeric(frame["steps"], errors="coerce")
        bad = ~(steps >= 0) | (steps != steps.round())
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise InputError(
                f"{path}, line {row + 2}, column 'steps': expected a whole number >= 0, got {frame['steps'].iloc[row]!r}"
            )
        return frame.assign(steps=steps.astype("int64"))

    def eval_history(self) -> list[dict]:
        frame = self.eval_frame()
        return [] if frame is None else frame.to_dict("records")

    def write_eval_history(self, rows: list[dict]) -> None:
        self._write_eval_frame(pd.DataFrame(rows))

    def _write_eval_frame(self, frame: pd.DataFrame) -> None:
        """eval.csv, atomically; with its header even when no row is left."""
        atomic_write(self.path / "eval.csv", lambda tmp: frame.to_csv(tmp, index=False))

    # --------------------------------------------------------------------------- new runs
    def is_failed_start(self) -> bool:
        """True when the folder holds only what a start writes before its first checkpoint."""
        names = {p.name for p in self.path.iterdir()}
        # Logs, and temporary files of writes a kill interrupted (even of config.yaml, before anything else).
        names = {n for n in names if not n.startswith("progress") and not (n.startswith(".") and n.endswith(".tmp"))}
        return not self.checkpoints() and names <= _START_FILES

    def clear_failed_start(self) -> None:
        for path in list(self.path.iterdir()):
            if path.name == ".lock":  # held by this process: deleting it would let another process lock a new one
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def _recorded_seconds(info: dict, path: Path) -> float | None:
    """A checkpoint's training seconds: a finite number >= 0, or None in checkpoints written before they were recorded."""
    if "training_seconds" not in info:
        return None
    seconds = info["training_seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise InputError(f"{path}: training_seconds must be a finite number of seconds >= 0, got {seconds!r}")
    return float(seconds)


def read_run_config(folder: Path | str) -> RunConfig:
    """The configuration of a run folder, with a clear error if it is not one."""
    folder = existing_folder(folder, "run folder")
    path = folder / "config.yaml"
    if not path.is_file():
        raise InputError(f"{folder} is not a run folder: it has no config.yaml")
    return RunConfig.from_dict(read_yaml(path, "run configuration"), path)


@contextmanager
def open_run(path: Path | str, new: bool):
    """Use a run folder for the ``with`` block: locked, checked, and cleaned if a new run fails to start.

    Args:
        path: the run folder. new: True to start a run (the folder must not hold a run already; a
            failed start is reused), False to resume one (it must exist).
    """
    path = Path(path)
    created = False
    if new:
        if path.exists() and not path.is_dir():
            raise InputError(f"{path} exists and is not a folder")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create run folder {path}: {exc.strerror}") from None
        created = not any(path.iterdir())
    elif not (existing_folder(path, "run folder") / "config.yaml").is_file():
        raise InputError(f"{path} is not a run folder: it has no config.yaml")
    require_no_symlinks(path)
    run = RunFolder(path)
    with exclusive_lock(path, "a training run"):
        if new and not created:
            if not run.is_failed_start():
                raise InputError(f"run folder {path} exists: continue it with --resume {path} or choose another --name")
            run.clear_failed_start()
            created = True
        try:
            yield run
        except BaseException:
            if new and created and not run.checkpoints():
                shutil.rmtree(path, ignore_errors=True)
            raise
