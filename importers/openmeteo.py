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
* shape checks, so that a damaged or hostile file is an error naming it, never a traceback: times
  exactly ``YYYY-MM-DDTHH:MM``; ``utc_offset_seconds`` whole minutes within UTC-12:00..UTC+14:00;
  latitude and longitude numbers of degrees; values numbers or null (not booleans); no key twice in
  one object; no nesting deeper than Python's JSON reader takes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, shown
from eglb.envs.files import decode_text, first_repeated
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
#: The offsets of real time zones, seconds (UTC-12:00 .. UTC+14:00).
MAX_UTC_OFFSETS = (-12 * 3600, 14 * 3600)
MAX_TIMEZONE_CHARS = 64
#: Open-Meteo's local time: date, hour and minute, no offset.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: The point's coordinates and their limits (None: elevation, optional, within 100 km).
_POINT = {"latitude": 90.0, "longitude": 180.0, "elevation": None}
_REQUIRED = ("seconds", "temperature_c", "relative_humidity_pct", "point", "timezone", "offset")
_VERSION = 2


def _parse(raw: bytes, path: Path) -> dict[str, np.ndarray]:
    text = decode_text(raw, path)

    def unique_keys(pairs: list) -> dict:
        repeated = first_repeated(key for key, _ in pairs)
        if repeated is not None:
            raise InputError(f"file {path}: key {shown(repeated)} appears twice in one object")
        return dict(pairs)

    try:
        document = json.loads(text, object_pairs_hook=unique_keys)
    except InputError:
        raise
    except json.JSONDecodeError as exc:
        raise InputError(f"file {path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"file {path}: JSON nested too deeply to be an Open-Meteo file") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise InputError(f"file {path}: not a readable JSON file ({shown(str(exc), 120)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("hourly"), dict):
        raise InputError(f"file {path}: expected an Open-Meteo object with an 'hourly' object")
    offset = _utc_offset(document, path)
    hourly, units = document["hourly"], document.get("hourly_units", {})
    if not isinstance(units, dict):
        raise InputError(f"file {path}: 'hourly_units' must be an object of units by variable, got {shown(units)}")
    times = hourly.get("time")
    if not isinstance(times, list) or not times:
        raise InputError(f"file {path}: 'hourly.time' must be a non-empty list of local times")
    out = {"seconds": _local_seconds(times, path) - offset, "offset": np.array(offset)}
    for variable, (column, unit, required) in VARIABLES.items():
        if variable not in hourly:
            if required:
                raise InputError(f"file {path}: no 'hourly.{variable}' series")
            continue
        if units.get(variable, unit) != unit:
            raise InputError(f"file {path}: hourly_units.{variable} is {shown(units[variable])}; expected {unit!r}")
        series = hourly[variable]
        if not isinstance(series, list) or len(series) != len(times):
            length = len(series) if isinstance(series, list) else "not a list of"
            raise InputError(f"file {path}: 'hourly.{variable}' has {length} values for {len(times)} times")
        out[column] = _values(series, path, variable)
    out["point"] = np.array([_coordinate(document, key, limit, path) for key, limit in _POINT.items()])
    timezone = document.get("timezone", "")
    if not isinstance(timezone, str) or len(timezone) > MAX_TIMEZONE_CHARS:
        raise InputError(f"file {path}: 'timezone' must be a time zone name, got {shown(timezone)}")
    out["timezone"] = np.array([timezone])
    return out


def _utc_offset(document: dict, path: Path) -> int:
    """The file's ``utc_offset_seconds``: whole minutes within the offsets of real time zones."""
    offset = document.get("utc_offset_seconds")
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise InputError(f"file {path}: no numeric 'utc_offset_seconds': the local times in hourly.time cannot be placed in UTC")
    low, high = MAX_UTC_OFFSETS
    if not low <= offset <= high or offset % 60 != 0:  # False for NaN
        raise InputError(
            f"file {path}: utc_offset_seconds is {shown(offset)}; expected whole minutes within {low} .. {high} "
            "(UTC-12:00 .. UTC+14:00)"
        )
    return int(offset)


def _local_seconds(times: list, path: Path) -> np.ndarray:
    """[R] seconds since 1970 of the naive local times ``YYYY-MM-DDTHH:MM``; InputError at the first bad one."""
    local = None
    if set(map(type, times)) == {str} and not has_utc_offset(np.array(times)).any():  # numpy would warn on an offset
        try:
            local = np.array(times, dtype="datetime64[m]")
        except ValueError:  # text that is no time, an impossible date or hour (2022-02-30, 24:00)
            pass
    if local is not None:
        # Exactly Open-Meteo's format: numpy writes a minute-resolution time back the same way.
        exact = np.datetime_as_string(local, unit="m") == np.array(times)
        if exact.all():
            return local.astype("datetime64[s]").astype(np.int64)
        bad = int(np.argmin(exact))
    else:
        bad = next(
            k for k, stamp in enumerate(times) if not (isinstance(stamp, str) and _TIME.fullmatch(stamp) and _is_time(stamp))
        )
    stamp = times[bad]
    if isinstance(stamp, str) and has_utc_offset(np.array([stamp]))[0]:
        raise InputError(
            f"file {path}, {LOCATOR} {bad}: {shown(stamp)} carries its own offset; Open-Meteo times are "
            "naive local times at utc_offset_seconds"
        )
    if isinstance(stamp, str) and _TIME.fullmatch(stamp):
        raise InputError(f"file {path}, {LOCATOR} {bad}: {shown(stamp)} is not a valid date and time")
    raise InputError(f"file {path}, {LOCATOR} {bad}: expected a local time like 2022-01-31T13:00, got {shown(stamp)}")


def _is_time(text: str) -> bool:
    try:
        np.datetime64(text, "m")
    except ValueError:
        return False
    return True


def _values(series: list, path: Path, variable: str) -> np.ndarray:
    """[R] float values of one series (null -> NaN, a missing hour); InputError at the first non-number."""
    if set(map(type, series)) <= {int, float, type(None)}:  # not bool: True would read as 1.0
        try:
            return np.array(series, dtype=float)
        except OverflowError:  # an integer beyond any float
            bad = next(k for k, v in enumerate(series) if isinstance(v, int) and abs(v) > 1e308)
    else:
        bad = next(k for k, v in enumerate(series) if type(v) not in (int, float, type(None)))
    raise InputError(f"file {path}, {LOCATOR} {bad}: hourly.{variable} is {shown(series[bad])}, not a number")


def _coordinate(document: dict, key: str, limit: float | None, path: Path) -> float:
    """Latitude or longitude (degrees, within +-limit), or elevation (m; NaN when absent)."""
    value = document.get(key)
    if value is None and limit is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= (limit or 1e5):
        expected = f"degrees within -{limit:g} .. {limit:g}" if limit else "metres"
        raise InputError(f"file {path}: {key} must be a number of {expected}, got {shown(value)}")
    return float(value)


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
        metadata: ``path``, ``latitude``, ``longitude``, ``elevation`` (m, None if absent), ``utc_offset_seconds``,
            ``timezone`` (the file's name for it, never used), ``label`` ("instant"), ``locator``.
    """
    path = Path(path)
    arrays = parsed(path, "openmeteo", _VERSION, lambda raw: _parse(raw, path), cache, _REQUIRED)
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
    latitude, longitude, elevation = (float(v) for v in arrays["point"])
    offset = int(arrays["offset"])
    require_year(arrays["seconds"] + offset, path, year if year is not None else year_in_name(path))  # a local year
    data = pd.DataFrame(
        {**{column: arrays[column] for column in columns}, "line": np.arange(arrays["seconds"].size, dtype=np.int64)},
        index=pd.DatetimeIndex(arrays["seconds"].astype("datetime64[s]"), name="start_utc").tz_localize("UTC"),
    )
    metadata = {
        "path": str(path),
        "source": "Open-Meteo historical weather API",
        "latitude": latitude,
        "longitude": longitude,
        "elevation": elevation if np.isfinite(elevation) else None,
        "utc_offset_seconds": offset,
        "timezone": str(arrays["timezone"][0]),
        "label": "instant",
        "locator": LOCATOR,
        "dropped": [],
    }
    return data, metadata
