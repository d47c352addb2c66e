"""Open-Meteo historical weather JSON (the history folder's ``weather/<ZONE>/<YEAR>.json``).

What the source declares, and how it is read:

* time: ``hourly.time`` is ``YYYY-MM-DDTHH:MM`` on a local clock with **one fixed offset for the
  whole file**, ``utc_offset_seconds``: UTC = time - utc_offset_seconds. Open-Meteo applies the
  offset valid at download time to the whole series and never switches for DST, so the
  ``timezone`` name is recorded but never used to localise (that would shift half the year by an
  hour). A file without ``utc_offset_seconds``, or a stamp carrying its own offset, is an error.
* values are instantaneous samples at their stamp (Open-Meteo's convention). With a whole-hour
  offset each sample sits on the start of a UTC hour; India's +05:30 puts every sample at hh:30
  UTC, and :mod:`eglb.importers.grid` assigns it to the hour it falls in (rule "floor": the sample is the
  middle of that hour, so no interpolation is needed, and the README's sanity tables count the same
  way).
* columns: ``temperature_2m`` (°C) -> ``temperature_c``, ``relative_humidity_2m`` (%) ->
  ``relative_humidity_pct``, and when present ``cloudcover`` (%) -> ``cloud_cover_pct``,
  ``windspeed_10m`` (km/h) -> ``wind_speed_kmh``. The units in ``hourly_units`` must be these (a
  file in °F is refused rather than converted silently). ``null`` values are missing hours.
* scale checks: temperature within -90..60 °C, relative humidity within 0..100 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError
from eglb.importers.cache import CacheSetting, parsed
from eglb.importers.tables import has_utc_offset, require_year, year_in_name

#: Open-Meteo variable -> (column name, required unit, required?)
VARIABLES = {
    "temperature_2m": ("temperature_c", "°C", True),
    "relative_humidity_2m": ("relative_humidity_pct", "%", True),
    "cloudcover": ("cloud_cover_pct", "%", False),
    "windspeed_10m": ("wind_speed_kmh", "km/h", False),
}
PLAUSIBLE = {"temperature_c": (-90.0, 60.0), "relative_humidity_pct": (0.0, 100.0)}
LOCATOR = "hourly.time index"
_POINT = ("latitude", "longitude", "elevation", "utc_offset_seconds")
_VERSION = 1


def _parse(raw: bytes, path: Path) -> dict[str, np.ndarray]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"file {path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"file {path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("hourly"), dict):
        raise InputError(f"file {path}: expected an Open-Meteo object with an 'hourly' object")
    if not isinstance(document.get("utc_offset_seconds"), (int, float)):
        raise InputError(f"file {path}: no numeric 'utc_offset_seconds': the local times in hourly.time cannot be placed in UTC")
    hourly, units = document["hourly"], document.get("hourly_units", {})
    times = hourly.get("time")
    if not isinstance(times, list) or not times:
        raise InputError(f"file {path}: 'hourly.time' must be a non-empty list of local times")
    text = np.array([t if isinstance(t, str) else "" for t in times])
    offsets = np.flatnonzero(has_utc_offset(text))
    if offsets.size:
        k = int(offsets[0])
        raise InputError(
            f"file {path}, {LOCATOR} {k}: {times[k]!r} carries its own offset; Open-Meteo times are "
            "naive local times at utc_offset_seconds"
        )
    try:
        local = np.array(text, dtype="datetime64[m]")
    except ValueError:
        local = None
    if local is None or np.isnat(local).any():
        bad = next(k for k, t in enumerate(times) if not _is_naive_time(t))
        raise InputError(f"file {path}, {LOCATOR} {bad}: expected a local time like 2022-01-31T13:00, got {times[bad]!r}")
    out = {"seconds": local.astype("datetime64[s]").astype(np.int64) - int(document["utc_offset_seconds"])}
    for variable, (column, unit, required) in VARIABLES.items():
        if variable not in hourly:
            if required:
                raise InputError(f"file {path}: no 'hourly.{variable}' series")
            continue
        if units.get(variable, unit) != unit:
            raise InputError(f"file {path}: hourly_units.{variable} is {units[variable]!r}; expected {unit!r}")
        series = hourly[variable]
        if not isinstance(series, list) or len(series) != len(times):
            length = len(series) if isinstance(series, list) else "not a list"
            raise InputError(f"file {path}: 'hourly.{variable}' has {length} values for {len(times)} times")
        try:
            out[column] = np.array(series, dtype=float)  # null -> NaN, a missing hour
        except (TypeError, ValueError):
            bad = next(k for k, v in enumerate(series) if v is not None and not isinstance(v, (int, float)))
            raise InputError(f"file {path}, {LOCATOR} {bad}: hourly.{variable} is {series[bad]!r}, not a number") from None
    point = [float(document.get(key, np.nan)) for key in _POINT]
    out["point"] = np.array(point)
    out["timezone"] = np.array([str(document.get("timezone", ""))])
    return out


def _is_naive_time(text) -> bool:
    try:
        return isinstance(text, str) and not np.isnat(np.datetime64(text, "m"))
    except ValueError:
        return False


def read_weather(path: str | Path, year: int | None = None, cache: CacheSetting = True) -> tuple[pd.DataFrame, dict]:
    """Read one Open-Meteo JSON file.

    Args:
        path: the file.
        year: the (local) year the file must hold (default: the year in its name, if any).
        cache: see :mod:`eglb.importers.cache`.

    Returns:
        data: indexed by the UTC instant of each sample (file order), columns ``temperature_c``,
            ``relative_humidity_pct`` (and ``cloud_cover_pct``, ``wind_speed_kmh`` when present) and
            ``line`` (the index into the JSON arrays).
        metadata: ``path``, ``latitude``, ``longitude``, ``elevation`` (m), ``utc_offset_seconds``,
            ``timezone`` (the file's name for it, never used), ``label`` ("instant"), ``locator``.
    """
    path = Path(path)
    arrays = parsed(path, "openmeteo", _VERSION, lambda raw: _parse(raw, path), cache)
    columns = [column for column, _, _ in VARIABLES.values() if column in arrays]
    for column, (low, high) in PLAUSIBLE.items():
        values = arrays[column]
        bad = np.flatnonzero((values < low) | (values > high))
        if bad.size:
            k = int(bad[0])
            raise InputError(
                f"file {path}, {LOCATOR} {k}: {column} {values[k]:.6g} is outside {low:g}..{high:g} "
                "(wrong unit or a damaged value)"
            )
    latitude, longitude, elevation, offset = (float(v) for v in arrays["point"])
    require_year(arrays["seconds"] + int(offset), path, year if year is not None else year_in_name(path))  # a local year
    data = pd.DataFrame(
        {**{column: arrays[column] for column in columns}, "line": np.arange(arrays["seconds"].size, dtype=np.int64)},
        index=pd.DatetimeIndex(arrays["seconds"].astype("datetime64[s]"), name="start_utc").tz_localize("UTC"),
    )
    metadata = {
        "path": str(path),
        "source": "Open-Meteo historical weather API",
        "latitude": latitude,
        "longitude": longitude,
        "elevation": elevation,
        "utc_offset_seconds": int(offset),
        "timezone": str(arrays["timezone"][0]),
        "label": "instant",
        "locator": LOCATOR,
        "dropped": [],
    }
    return data, metadata
