"""Loading history scenarios: a year of the 14 complete zones, parsed from the files vs from the cache.

Baseline measured in the same run: "cold", every file parsed from text (a fresh, empty cache folder
each time; the operating system's file cache may be warm, so this is parsing time, not disk time).
"Cached": the same load with the parsed files in the cache (``$EGLB_CACHE``), the state of every
load after the first. Needs the history folder ($EGLB_HISTORY_DATA or ../shared/data/history).
"""

from __future__ import annotations

import os
import tempfile

from common import best_time, print_table
from eglb.importers.history import HISTORY_ENV, default_history_path, is_history_folder, load_history


def timed(years: str, cache_folder: str, fresh: bool, repeats: int) -> float:
    def run():
        folder = tempfile.mkdtemp(dir=cache_folder) if fresh else cache_folder
        load_history(years=years, cache=folder)

    return best_time(run, repeats)


def main() -> str:
    path = default_history_path()
    if not is_history_folder(path):
        print(f"history folder not found at {path} (set {HISTORY_ENV}): nothing to measure")
        return ""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for years, repeats in (("2022", 3), ("2021-2023", 2)):
            warm = os.path.join(scratch, f"warm-{years}")
            os.makedirs(warm)
            cold = timed(years, scratch, fresh=True, repeats=repeats)
            load_history(years=years, cache=warm)  # fills the cache
            cached = timed(years, warm, fresh=False, repeats=repeats + 2)
            hours = 8760 * len(range(int(years[:4]), int(years[-4:]) + 1))
            rows.append([years, 14, hours, f"{cold:.2f}", f"{cached:.2f}", f"{cold / cached:.1f}x"])
    return print_table(
        "load_history, 14 complete zones (carbon, price, weather -> price, carbon, water, workload)",
        ["years", "regions", "hours", "cold s", "cached s", "cold / cached"],
        rows,
    )


if __name__ == "__main__":
    main()
