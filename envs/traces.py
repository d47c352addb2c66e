"""Open a folder of traces in either supported layout (detected from its files)."""

from __future__ import annotations

from pathlib import Path

from eglb.envs.csv_format import is_csv_folder, load_scenario
from eglb.envs.eglb2022 import is_eglb2022_folder, load_eglb2022
from eglb.envs.errors import InputError, existing_folder
from eglb.envs.scenario import Scenario


def load_traces(path: str | Path, setting: str | None = None) -> Scenario:
    """Load the published layout (:mod:`eglb.envs.eglb2022`) or the project's CSV format (:mod:`eglb.envs.csv_format`).

    Args:
        path: the folder.
        setting: "full" or "partial"; None means "full" for the published layout and the folder's
            own mask for the CSV format.
    """
    folder = existing_folder(path, "traces folder")
    if is_eglb2022_folder(folder):
        return load_eglb2022(folder, setting or "full")
    if is_csv_folder(folder):
        return load_scenario(folder, setting)
    raise InputError(
        f"{folder} is neither the published layout (AI_workload.csv and price/, carbon/, water/) "
        "nor a scenario folder (signals.csv, workload.csv, regions.csv)"
    )
