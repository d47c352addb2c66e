"""The CSV + TensorBoard logger of a run folder (stable-baselines3's logger, used by every algorithm)."""

from __future__ import annotations

import os
from pathlib import Path


def run_logger(folder: Path):
    """A logger writing ``progress.csv`` (``progress-2.csv``, ... after resumes) and TensorBoard events in ``tb/``.

    A name is taken only if nothing, not even a dangling symbolic link, has it: the logger never
    writes through a link.
    """
    from stable_baselines3.common.logger import CSVOutputFormat, Logger, TensorBoardOutputFormat

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path, k = folder / "progress.csv", 1
    while os.path.lexists(path):
        k += 1
        path = folder / f"progress-{k}.csv"
    return Logger(str(folder), [CSVOutputFormat(str(path)), TensorBoardOutputFormat(str(folder / "tb"))])
