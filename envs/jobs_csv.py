"""Job lists as CSV: your own deferrable jobs, read against a scenario (docs/model/flexibility.md).

::

    job,energy_mwh,release,deadline,max_power_mw,home,regions,away_usd_per_mwh,away_mwh_per_mwh
    train-7b,2.4,2024-01-02T09:00,2024-01-03T09:00,0.1,DE-LU,*,8.5,0.00053
    finetune,0.3,2024-01-02T10:00,2024-01-02T20:00,0.05,JP-TK,JP-TK SG,,

* ``job``: a unique name. ``energy_mwh``: the work, MWh (>= 0). ``max_power_mw``: MW (> 0).
* ``release``, ``deadline``: UTC hour starts (ISO 8601); the job may run in the hours from
  ``release`` up to, not including, ``deadline`` (which may be the hour after the scenario's last).
* ``home``: the region holding its data and checkpoint. ``regions``: the regions it may run in,
  space-separated names, or ``*`` for all (home is always allowed; empty: home only).
* ``away_usd_per_mwh``, ``away_mwh_per_mwh`` (optional; empty = 0): the checkpoint transfer's price
  and extra energy per MWh of work run away from home (a move's, spread over the work it serves).

Every mistake is named by file, line and column, or by the job: a deadline not after the release,
a negative or non-finite energy, an unknown region, a window outside the scenario, more work than
the job can do alone in its window (:meth:`eglb.envs.flexibility.Jobs.check_scenario`). Whether all
jobs fit together is an LP: :func:`eglb.agents.deliverable.check_deliverable` reports which jobs are
short and by how much.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write, line_of, numeric_column, read_table, require_whole_hours, timestamp_column
from eglb.envs.flexibility import DEFAULT_UNFINISHED_PENALTY, Jobs
from eglb.envs.scenario import Scenario

COLUMNS = ("job", "energy_mwh", "release", "deadline", "max_power_mw", "home", "regions")
OPTIONAL = ("away_usd_per_mwh", "away_mwh_per_mwh")

#: Most jobs a file may list (a year of 14 zones at the generator's 0.9 share is about 10^6).
MAX_JOBS = 5_000_000


def load_jobs(path: str | Path, scenario: Scenario, penalty: float = DEFAULT_UNFINISHED_PENALTY) -> Jobs:
    """The jobs of a CSV file (module docstring), checked against ``scenario``'s regions and hours."""
    path = Path(path)
    if path.is_file() and path.stat().st_size > MAX_JOBS * 400:
        raise InputError(f"file {path} is {path.stat().st_size:,} bytes: more than {MAX_JOBS:,} jobs of a job list")
    table = read_table(path, COLUMNS)
    if len(table) > MAX_JOBS:
        raise InputError(f"file {path} lists {len(table):,} jobs; at most {MAX_JOBS:,} are accepted")
    names = tuple(table["job"].str.strip())

    def where(row: int, column: str) -> str:
        return f"file {path}, line {line_of(row)} (job {names[row]!r}), column {column!r}"

    for row, name in enumerate(names):
        if not name:
            raise InputError(f"file {path}, line {line_of(row)}, column 'job': empty job name")
    seen: dict[str, int] = {}
    for row, name in enumerate(names):
        if name in seen:
            raise InputError(f"file {path}, line {line_of(row)}, column 'job': job {name!r} repeats line {line_of(seen[name])}")
        seen[name] = row

    def named(read, *args):
        """``read(*args)``, its error naming the job of the line it names (the readers know lines only)."""
        try:
            return read(*args)
        except InputError as exc:
            found = re.search(r"line (\d+)", str(exc))
            row = int(found.group(1)) - line_of(0) if found else -1
            if not 0 <= row < len(names):
                raise
            text = str(exc).replace(found.group(0), f"{found.group(0)} (job {names[row]!r})", 1)
            raise InputError(text) from None

    energy = named(numeric_column, table, "energy_mwh", path)
    power = named(numeric_column, table, "max_power_mw", path)
    for column, values, positive in (("energy_mwh", energy, False), ("max_power_mw", power, True)):
        bad = values <= 0 if positive else values < 0
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(f"{where(row, column)}: expected a number {'>' if positive else '>='} 0, got {values[row]:g}")
    extra = {}
    for column in OPTIONAL:
        if column in table.columns:
            # Empty cells read as 0; the whole column is read so that a bad cell's line is its own.
            filled = table[column].str.strip() != ""
            values = named(numeric_column, table.assign(**{column: table[column].where(filled, "0")}), column, path)
            if (values < 0).any():
                row = int(np.argmax(values < 0))
                raise InputError(f"{where(row, column)}: expected a number >= 0, got {values[row]:g}")
            extra[column] = values
    hours = {}
    first = scenario.timestamps[0].astype("datetime64[h]").astype(np.int64)
    for column in ("release", "deadline"):
        stamps = named(timestamp_column, table, column, path)
        named(require_whole_hours, stamps, path, column)
        hours[column] = stamps.astype("datetime64[h]").astype(np.int64) - first
    release, deadline = hours["release"], hours["deadline"]
    stamps = np.datetime_as_string(scenario.timestamps[[0, -1]], unit="m")
    for row in range(len(table)):
        if deadline[row] <= release[row]:
            raise InputError(
                f"{where(row, 'deadline')}: the deadline {table['deadline'].iloc[row].strip()} is not after the release "
                f"{table['release'].iloc[row].strip()}"
            )
        if release[row] < 0 or deadline[row] > scenario.n_hours:
            column = "release" if release[row] < 0 else "deadline"
            raise InputError(
                f"{where(row, column)}: {table[column].iloc[row].strip()} is outside the scenario's hours {stamps[0]} .. "
                f"{stamps[1]} (a deadline may be the hour after the last)"
            )
    index = {name: i for i, name in enumerate(scenario.regions)}
    home = np.empty(len(table), dtype=np.int64)
    regions = np.zeros((len(table), scenario.n_regions), dtype=bool)
    for row in range(len(table)):
        name = table["home"].iloc[row].strip()
        if name not in index:
            raise InputError(f"{where(row, 'home')}: unknown region {name!r} (regions: {', '.join(scenario.regions)})")
        home[row] = index[name]
        listed = table["regions"].iloc[row].split()
        if listed == ["*"]:
            regions[row] = True
            continue
        for region in listed:
            if region not in index:
                raise InputError(
                    f"{where(row, 'regions')}: unknown region {region!r} (regions: {', '.join(scenario.regions)}, or *)"
                )
            regions[row, index[region]] = True
        regions[row, home[row]] = True
    try:
        jobs = Jobs(
            names=names,
            energy=energy,
            release=release,
            deadline=deadline,
            max_power=power,
            regions=regions,
            home=home,
            away_usd=extra.get("away_usd_per_mwh"),
            away_overhead=extra.get("away_mwh_per_mwh"),
            penalty=penalty,
        )
        scenario.with_changes(jobs=jobs)  # each job alone against the scenario's capacity
    except InputError as exc:
        raise InputError(f"file {path}: {exc}") from None
    return jobs


def save_jobs(jobs: Jobs, scenario: Scenario, path: str | Path) -> Path:
    """Write ``jobs`` of ``scenario`` as a CSV file :func:`load_jobs` reads back exactly."""
    stamps = np.append(scenario.timestamps, scenario.timestamps[-1] + np.timedelta64(1, "h"))
    everywhere = jobs.regions.all(axis=1)
    table = pd.DataFrame(
        {
            "job": jobs.names,
            "energy_mwh": jobs.energy,
            "release": np.datetime_as_string(stamps[jobs.release], unit="m"),
            "deadline": np.datetime_as_string(stamps[jobs.deadline], unit="m"),
            "max_power_mw": jobs.max_power,
            "home": [scenario.regions[i] for i in jobs.home],
            "regions": [
                "*" if all_ else " ".join(scenario.regions[i] for i in np.flatnonzero(r))
                for r, all_ in zip(jobs.regions, everywhere)
            ],
            "away_usd_per_mwh": jobs.away_usd,
            "away_mwh_per_mwh": jobs.away_overhead,
        }
    )
    path = Path(path)
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    return path
