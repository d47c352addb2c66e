"""Check the water model (SPEC section 8) against the published eGLB set: derived vs published water.

    python -m eglb.importers.validate_water [--history DIR] [--published DIR]

Derives water intensity from the history folder's 2022 weather and grid mix for the published
regions that have their own weather (Texas, Virginia, Germany, Japan, Singapore; region table
``eglb2022``) and compares it with the published ``water/<Region>_water.csv``:

* Texas and Virginia hour by hour: the published US series sit 20 days after the raw calendar
  (``data/eglb-2022/README.md``), so published hour t is compared with raw hour t - 20 days;
* Germany, Japan and Singapore come from other sources: mean and daily profile (mean by UTC hour)
  over the same calendar hours.

For each factor table ("eglb", "macknick-median") and grid mix (annual 2022 shares; hourly EIA-930
where there is one) it prints mean derived, mean published, their ratio, the hourly correlation
(US regions) and the correlation of the 24-hour profiles. It is a check of the model, not a fit:
nothing here feeds back into its parameters.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from eglb.envs.eglb2022 import default_data_path, load_eglb2022
from eglb.envs.errors import InputError
from eglb.importers.history import load_history
from eglb.importers.paths import default_history_path

SHIFT_HOURS = 20 * 24
ALIGNED = ("Texas", "Virginia")
BY_DISTRIBUTION = ("Germany", "Japan", "Singapore")
TABLES = ("eglb", "macknick-median")


def _profile(values: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    hour = stamps.astype("datetime64[h]").astype(np.int64) % 24
    return np.array([values[hour == h].mean() for h in range(24)])


def compare(history=None, published=None) -> list[dict]:
    """Rows of derived-vs-published figures (see the module docstring)."""
    reference = load_eglb2022(published or default_data_path())
    stamps = reference.timestamps
    rows = []
    for table in TABLES:
        for mix in ("annual", "best"):
            scenario = load_history(history, regions=ALIGNED + BY_DISTRIBUTION, years=2022, mix=mix, water_table=table)
            start = int((stamps[0] - scenario.timestamps[0]).astype("timedelta64[h]").astype(np.int64))
            for k, region in enumerate(scenario.regions):
                if mix == "best" and region not in ALIGNED:
                    continue  # no hourly mix outside the US: "best" is "annual" there
                shift = SHIFT_HOURS if region in ALIGNED else 0
                window = slice(start - shift, start - shift + reference.n_hours)
                derived = scenario.water[k, window]
                truth = reference.water[reference.regions.index(region)]
                rows.append(
                    {
                        "region": region,
                        "table": table,
                        "mix": "hourly EIA-930" if mix == "best" else "annual 2022",
                        "raw_start": str(scenario.timestamps[window][0]),
                        "derived_mean": float(derived.mean()),
                        "published_mean": float(truth.mean()),
                        "ratio": float(derived.mean() / truth.mean()),
                        "hourly_r": float(np.corrcoef(derived, truth)[0, 1]) if region in ALIGNED else None,
                        "profile_r": float(
                            np.corrcoef(_profile(derived, scenario.timestamps[window]), _profile(truth, stamps))[0, 1]
                        ),
                    }
                )
    return rows


def format_rows(rows: list[dict]) -> list[str]:
    """The printed table of :func:`compare`'s rows."""
    lines = [
        "water intensity, L/kWh: derived from raw 2022 history vs the published eGLB set (T = 457 hours)",
        "US regions compared hour by hour at raw hour = published hour - 20 days; others by mean and daily profile",
        f"{'region':<11} {'table':<16} {'mix':<15} {'raw from':<17} {'derived':>8} {'published':>9} {'ratio':>6} "
        f"{'hourly r':>9} {'profile r':>9}",
    ]
    for row in rows:
        hourly = f"{row['hourly_r']:9.3f}" if row["hourly_r"] is not None else f"{'-':>9}"
        lines.append(
            f"{row['region']:<11} {row['table']:<16} {row['mix']:<15} {row['raw_start'][:16]:<17} {row['derived_mean']:8.3f} "
            f"{row['published_mean']:9.3f} {row['ratio']:6.3f} {hourly} {row['profile_r']:9.3f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eglb.importers.validate_water", description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", help=f"history folder (default {default_history_path()})")
    parser.add_argument("--published", help=f"published eglb-2022 folder (default {default_data_path()})")
    args = parser.parse_args(argv)
    try:
        rows = compare(args.history, args.published)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(format_rows(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
