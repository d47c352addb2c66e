"""Resuming after a kill at any moment: the run continues, and its history and logs keep their header and
every row up to the last checkpoint (issue 17, cause 1).

The kills are real ``SIGKILL``s of a training process, at chosen moments (tests/killed_run.py): just
before the N-th file of the run is renamed into place, or in the middle of a row of the training log.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from eglb.envs.errors import InputError
from eglb.robust.learned import load_learned
from eglb.training.run_folder import RunFolder
from eglb.training.run_log import STEP_COLUMN, trim_progress_logs

from eglb.cli import train

ROOT = Path(__file__).resolve().parents[1]
#: Three DAgger iterations of one 24-hour episode, evaluated and checkpointed after each (steps 24, 48, 72).
STEPS = (24, 48, 72)
#: Files renamed into place by such a run, in order: config.yaml, command.txt, policy.json, then per
#: iteration eval.csv, learning_curve.png, [best_policy.pt], policy.pt, the checkpoint's dataset.npz,
#: trainer.pt, trainer.json, best_policy.pt and checkpoint.json (written last).
WRITES_BEFORE_LAST_CHECKPOINT = 28


def train_args(folder: Path, timesteps: int = STEPS[-1]) -> list[str]:
    return [
        "--algo",
        "bc",
        "--synthetic",
        "--timesteps",
        str(timesteps),
        "--set",
        "env.episode_hours=24",
        "--eval-seeds",
        "0",
        "--no-progress",
        "--set",
        "model.episodes_per_iteration=1",
        "--set",
        "model.epochs=1",
        "--set",
        "model.workers=1",
        "--set",
        "model.hidden=[8]",
        "--out",
        str(folder.parent),
        "--name",
        folder.name,
    ]


def killed(where: str, n: int, args: list[str]) -> None:
    """Run train.py with ``args`` in a subprocess that SIGKILLs itself at the moment (where, n)."""
    done = subprocess.run(
        [sys.executable, "tests/killed_run.py", where, str(n), *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == -9, f"the run was not killed at {where} {n}: {done.stderr[-2000:]}"


def checkpointed_history(folder: Path) -> list[dict]:
    """The evaluation rows the last complete checkpoint covers (what a resume must keep)."""
    run = RunFolder(folder)
    latest = run.checkpoints()
    steps = latest[-1][0] if latest else 0
    return [row for row in run.eval_history() if row["steps"] <= steps] if (folder / "eval.csv").is_file() else []


def progress_steps(folder: Path) -> list[float]:
    """The step of every row of the training logs, in the order they were written (progress.csv, progress-2.csv, ...)."""
    files = sorted(folder.glob("progress*.csv"), key=lambda p: int(p.stem.partition("-")[2] or 1))
    steps = []
    for path in files:
        rows = [row for row in csv.reader(path.read_text().splitlines()) if row]
        if not rows:  # killed before the log's first row (the logger's first, empty, line only)
            continue
        header = rows[0]
        assert STEP_COLUMN in header, f"{path}: {header}"
        for row in rows[1:]:
            assert len(row) == len(header), f"{path} holds a broken row {row}"
            if row[header.index(STEP_COLUMN)]:
                steps.append(float(row[header.index(STEP_COLUMN)]))
    return steps


def assert_complete(folder: Path, kept: list[dict]) -> None:
    """After the resume: every evaluation once, the rows from before the kill unchanged, logs whole."""
    history = pd.read_csv(folder / "eval.csv")
    assert list(history["steps"]) == list(STEPS)
    before = pd.DataFrame(kept)
    if len(before):
        pd.testing.assert_series_equal(
            history["ratio_to_offline"].iloc[: len(before)], before["ratio_to_offline"], check_names=False
        )
    assert progress_steps(folder) == [float(s) for s in STEPS]
    assert not list(folder.rglob(".*.tmp"))
    assert [p.name for p in folder.glob("checkpoint-*")] == [f"checkpoint-{STEPS[-1]}"]
    load_learned(folder)


def resume_after_kill(folder: Path, where: str, n: int) -> None:
    killed(where, n, train_args(folder))
    kept = checkpointed_history(folder)
    if not (folder / "config.yaml").is_file():  # killed before the configuration was written: start again
        with pytest.raises(InputError, match="has no config.yaml"):
            train.main(["--resume", str(folder), "--no-progress"])
        assert train.main(train_args(folder)) == 0
    else:
        assert train.main(["--resume", str(folder), "--no-progress"]) == 0
    assert_complete(folder, kept)


@pytest.mark.parametrize(
    "where, n",
    [
        ("write", 5),  # after the first evaluation row, before any checkpoint (the kill of SAC 6.5 s in)
        ("write", 20),  # the second checkpoint written but for its checkpoint.json
        ("log", 3),  # in the middle of the third row of the training log
    ],
)
def test_a_kill_at_these_moments_loses_nothing_the_checkpoint_covers(tmp_path, where, n):
    resume_after_kill(tmp_path / "run", where, n)


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, WRITES_BEFORE_LAST_CHECKPOINT + 1))
def test_a_kill_before_any_write_loses_nothing_the_checkpoint_covers(tmp_path, n):
    resume_after_kill(tmp_path / "run", "write", n)


@pytest.mark.slow
@pytest.mark.parametrize("n", (1, 2, 3))
def test_a_kill_during_the_resume_itself_is_repaired_by_the_next_resume(tmp_path, n):
    """Killed after its first checkpoint, then killed again while resuming (while the trim rewrites
    eval.csv, the log and the best weights, or later): the third start still completes the run."""
    folder = tmp_path / "run"
    killed("write", 20, train_args(folder))
    kept = checkpointed_history(folder)
    killed("write", n, ["--resume", str(folder), "--no-progress"])
    assert train.main(["--resume", str(folder), "--no-progress"]) == 0
    assert_complete(folder, kept)


def test_a_checkpoint_lost_before_its_info_is_written_resumes_from_scratch(tmp_path):
    """The issue's reproduction: a run whose only checkpoint lacks checkpoint.json (a kill between
    the first evaluation and the first complete checkpoint). The resume keeps eval.csv's header, and
    a second resume still works."""
    folder = tmp_path / "run"
    assert train.main(train_args(folder, 48)) == 0
    for info in folder.glob("checkpoint-*/checkpoint.json"):
        info.unlink()
    assert train.main(["--resume", str(folder), "--no-progress"]) == 0
    assert list(pd.read_csv(folder / "eval.csv")["steps"]) == [24, 48]
    assert train.main(["--resume", str(folder), "--timesteps", "72", "--no-progress"]) == 0
    assert list(pd.read_csv(folder / "eval.csv")["steps"]) == [24, 48, 72]


def fake_run(folder: Path, checkpoint_steps: int | None, eval_steps=(24, 48, 72)) -> RunFolder:
    """A run folder's files as training leaves them (no training): eval rows at ``eval_steps`` and,
    optionally, a complete checkpoint at ``checkpoint_steps``."""
    folder.mkdir()
    run = RunFolder(folder)
    run.write_eval_history([{"steps": s, "ratio_to_offline": 1 + s / 1000, "loss": 0.5} for s in eval_steps])
    if checkpoint_steps is not None:
        (folder / "best_policy.pt").write_bytes(b"best of the checkpoint")
        run.finish_checkpoint(run.checkpoint_folder(checkpoint_steps), checkpoint_steps)  # copies the best weights in
    (folder / "best_policy.pt").write_bytes(b"best of a lost evaluation")
    (folder / "policy.pt").write_bytes(b"latest of a lost evaluation")
    return run


def test_trimming_to_no_checkpoint_keeps_the_header_and_drops_the_weights(tmp_path):
    run = fake_run(tmp_path / "run", None)
    assert run.trim_to_checkpoint() is None
    assert (run.path / "eval.csv").read_text().splitlines() == ["steps,ratio_to_offline,loss"]
    assert run.eval_history() == []
    assert not (run.path / "best_policy.pt").exists() and not (run.path / "policy.pt").exists()
    run.trim_to_checkpoint()  # idempotent
    assert (run.path / "eval.csv").read_text().splitlines() == ["steps,ratio_to_offline,loss"]


def test_trimming_keeps_the_rows_and_the_best_weights_of_the_checkpoint(tmp_path):
    run = fake_run(tmp_path / "run", 48)
    info, _ = run.trim_to_checkpoint()
    assert info["steps"] == 48
    assert [r["steps"] for r in run.eval_history()] == [24, 48]
    assert (run.path / "best_policy.pt").read_bytes() == b"best of the checkpoint"


def test_an_evaluation_history_left_empty_by_an_earlier_release_is_an_empty_history(tmp_path):
    """Runs broken before this fix (eval.csv of one newline) resume again."""
    run = fake_run(tmp_path / "run", 48)
    (run.path / "eval.csv").write_text("\n")
    assert run.eval_history() == []
    run.trim_to_checkpoint()
    assert run.eval_history() == []


@pytest.mark.parametrize("cell", ["abc", "-24", "2.5", ""])
def test_an_evaluation_history_with_a_bad_step_names_its_line(tmp_path, cell):
    run = fake_run(tmp_path / "run", 48)
    lines = (run.path / "eval.csv").read_text().splitlines()
    lines[2] = cell + lines[2][lines[2].index(",") :]
    (run.path / "eval.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"eval.csv, line 3, column 'steps': expected a whole number >= 0"):
        run.trim_to_checkpoint()


def test_training_logs_are_cut_back_to_the_checkpoint_with_their_header(tmp_path):
    header = f"train/loss,{STEP_COLUMN},eval/cost"
    (tmp_path / "progress.csv").write_text(f"{header}\n0.5,24,10\n0.4,,11\n0.3,48,12\n0.2,72,13\n0.1,96")
    (tmp_path / "progress-2.csv").write_text(f"{header}\n0.5,72,10\n0.4,9")  # a resume killed mid-row
    (tmp_path / "progress-3.csv").write_text("")  # killed before its first row
    (tmp_path / "progress-4.csv").write_text("loss\n1\n2\n")  # an older release's log without steps: kept as is
    trim_progress_logs(tmp_path, 48)
    assert (tmp_path / "progress.csv").read_text() == f"{header}\n0.5,24,10\n0.4,,11\n0.3,48,12\n"
    assert (tmp_path / "progress-2.csv").read_text() == f"{header}\n"
    assert (tmp_path / "progress-3.csv").read_text() == ""
    assert (tmp_path / "progress-4.csv").read_text() == "loss\n1\n2\n"
    trim_progress_logs(tmp_path, 0)
    assert (tmp_path / "progress.csv").read_text() == f"{header}\n"
