"""Where gateways sit, and the pluggable gateway-load interface of history scenarios.

A gateway-load model is any callable ``model(timestamps, sites, rng) -> [J, T]`` (MW per gateway and
hour): ``timestamps`` [T] datetime64[s] UTC hour starts, ``sites`` the J gateways' :class:`Site`
(name, position, local time zone), ``rng`` a seeded numpy Generator.
:func:`eglb.importers.history.load_history` calls it for the whole years loaded (so a shorter ``hours=``
window is a slice of the same draw). The default is :class:`eglb.importers.workload.FittedLoads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, shown


@dataclass(frozen=True)
class Site:
    """Where a gateway sits.

    Attributes:
        name: the gateway's (and its co-located region's) name.
        latitude, longitude: degrees (the region's weather point).
        timezone: IANA zone of its local clock (None: UTC).
    """

    name: str
    latitude: float
    longitude: float
    timezone: str | None


class GatewayLoads(Protocol):
    def __call__(self, timestamps: np.ndarray, sites: Sequence[Site], rng: np.random.Generator) -> np.ndarray:
        """[J, T] load per gateway and hour, MW."""


def require_timezone(timezone: str, where: str) -> str:
    """``timezone`` if it is a time zone name pandas knows (IANA, e.g. Europe/Berlin); else InputError at ``where``."""
    try:
        pd.Timestamp("2000-01-01", tz="UTC").tz_convert(timezone)
    except Exception:  # pandas raises several types for an unknown zone
        raise InputError(f"{where}: unknown timezone {shown(timezone)} (expected an IANA name such as Europe/Berlin)") from None
    return timezone


def _local(timestamps: np.ndarray, timezone: str | None) -> pd.DatetimeIndex:
    utc = pd.DatetimeIndex(np.asarray(timestamps).astype("datetime64[s]")).tz_localize("UTC")
    if not timezone:
        return utc
    return utc.tz_convert(require_timezone(timezone, "local clock of a site"))


def local_hours(timestamps: np.ndarray, timezone: str | None) -> np.ndarray:
    """[T] hour of the local clock (0..23, DST included) at UTC hour starts ``timestamps``."""
    return np.asarray(_local(timestamps, timezone).hour, dtype=int)


def utc_offsets(timestamps: np.ndarray, timezone: str | None) -> np.ndarray:
    """[T] UTC offset of the local clock in hours (daylight saving time included) at UTC hour starts."""
    local = _local(timestamps, timezone)
    if not timezone:
        return np.zeros(len(local))
    # The local wall clock minus the UTC one, vectorized (a per-stamp utcoffset() takes seconds for a year).
    return np.asarray((local.tz_localize(None) - local.tz_convert("UTC").tz_localize(None)) / pd.Timedelta(hours=1), dtype=float)
