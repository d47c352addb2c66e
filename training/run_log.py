"""The CSV + TensorBoard logger of a run folder (stable-baselines3's logger, used by every algorithm).

Every row of ``progress*.csv`` carries the training step it was written at (``time/total_timesteps``),
so that a resumed run can cut its logs back to its last checkpoint (:func:`trim_progress_logs`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from eglb.envs.files import atomic_write_text

#: The column of progress.csv holding the training step of each row.
STEP_COLUMN = "time/total_timesteps"


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


def trim_progress_logs(folder: Path, steps: int) -> None:
    """Cut every ``progress*.csv`` of a run folder back to its header and the rows written at or before ``steps``.

    The logger writes its file in place, so a kill can leave a half-written last line or a row whose
    cells do not match the header: those are dropped too. A row without a step belongs with the
    row before it. A file without a header or a step column is left as it is (nothing to cut by).
    """
    for path in sorted(Path(folder).glob("progress*.csv")):
        if path.is_symlink() or not path.is_file():
            continue
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)
        partial = bool(lines) and not lines[-1].endswith("\n")
        if partial:
            lines.pop()  # the write a kill interrupted
        rows = list(csv.reader(lines))
        if not rows or STEP_COLUMN not in rows[0]:
            kept = rows
        else:
            header, column = rows[0], rows[0].index(STEP_COLUMN)
            kept, step = [header], 0.0
            for row in rows[1:]:
                if len(row) != len(header):
                    continue
                try:
                    step = float(row[column]) if row[column] else step
                except ValueError:
                    continue
                if step <= steps:
                    kept.append(row)
        if partial or len(kept) != len(rows):
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(kept)
            atomic_write_text(path, out.getvalue())
