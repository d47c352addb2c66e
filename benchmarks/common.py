"""Small helpers shared by the benchmarks: best-of-k timing and a results table."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def best_time(run, repeats: int = 5) -> float:
    """The fastest of ``repeats`` wall-clock timings of ``run()``, in seconds (robust to noise)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def print_table(title: str, header: list[str], rows: list[list]) -> str:
    """Print a plain-text table and return it as Markdown (a bold title line, then the table)."""
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[k])) for r in rows)) for k, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(row, widths)))
    return markdown_table(title, header, rows)


def markdown_table(title: str, header: list[str], rows: list[list]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def tiled_synthetic(n_regions: int, hours: int, seed: int = 0):
    """A synthetic scenario with ``n_regions`` regions (a multiple of 10): independent 10-region
    draws side by side, every gateway co-located with its region, full mask."""
    import numpy as np
    from eglb.envs.scenario import Scenario
    from eglb.envs.synthetic import make_synthetic

    if n_regions % 10:
        raise ValueError("n_regions must be a multiple of 10")
    parts = [make_synthetic(seed * 1000 + k, hours=hours) for k in range(n_regions // 10)]
    names = [f"{r}-{k}" for k, part in enumerate(parts) for r in part.regions]
    stack = lambda field: np.concatenate([getattr(p, field) for p in parts])  # noqa: E731
    return Scenario(
        regions=names,
        gateways=names,
        timestamps=parts[0].timestamps,
        price=stack("price"),
        carbon=stack("carbon"),
        water=stack("water"),
        workload=stack("workload"),
        capacity=stack("capacity"),
        mask=np.ones((n_regions, n_regions), dtype=bool),
        name=f"tiled synthetic N={n_regions} T={hours}",
    )


def published_or_synthetic(setting: str):
    """The published scenario if the data set is reachable, else synthetic seed 0 (and say which)."""
    from eglb.envs.eglb2022 import default_data_path, load_eglb2022
    from eglb.envs.synthetic import make_synthetic

    path = default_data_path()
    if (path / "AI_workload.csv").is_file():
        return load_eglb2022(path, setting)
    print(f"(published data not found at {path}: using synthetic seed 0; set EGLB2022_DATA)")
    return make_synthetic(0, hours=457, setting=setting)


def learned_forecaster(folder):
    """The learned forecaster saved in ``folder``, trained first (synthetic seeds 1000..1007, 2190 hours
    each: the default of ``python -m eglb.forecasts.train``) if the folder holds none yet."""
    from pathlib import Path

    from eglb.forecasts.learned import CONFIG_FILE, load_learned_forecaster
    from eglb.forecasts.train import main as train

    if not (Path(folder) / CONFIG_FILE).is_file():
        print(f"training the learned forecaster into {folder} ...", flush=True)
        if train(["--out", str(folder)]) != 0:
            raise SystemExit(2)
    return load_learned_forecaster(folder)
