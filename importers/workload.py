"""Gateway workloads for history scenarios: the pluggable interface and the default model.

A workload model is any callable ``model(timestamps, sites, rng) -> [J, T]`` (MW per gateway and
hour): ``timestamps`` [T] datetime64[s] UTC hour starts, ``sites`` the J gateways' :class:`Site`
(name, position, local time zone), ``rng`` a seeded numpy Generator. :func:`importers.history.load_history`
calls it for the whole years loaded (so a shorter ``hours=`` window is a slice of the same draw).

The default, :class:`BloomDailyCycle`, reuses the embedded synthetic generator's BLOOM calibration
(``envs/calibration.json``: the trace's daily profile, AR(1) noise, range; :func:`envs.synthetic.workload_shape`)
with two changes for many real places: each gateway reads the daily profile at its own local clock
hour (the BLOOM trace's clock is not documented, so its profile hour is taken as the gateway's local
hour), and each gateway draws its own noise. It is a placeholder for a model fitted to real serving
traces: pass that model as ``workload=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from envs.errors import InputError
from envs.synthetic import clip_workload, workload_shape


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


class WorkloadModel(Protocol):
    def __call__(self, timestamps: np.ndarray, sites: Sequence[Site], rng: np.random.Generator) -> np.ndarray:
        """[J, T] load per gateway and hour, MW."""


def local_hours(timestamps: np.ndarray, timezone: str | None) -> np.ndarray:
    """[T] hour of the local clock (0..23, DST included) at UTC hour starts ``timestamps``."""
    utc = pd.DatetimeIndex(np.asarray(timestamps).astype("datetime64[s]")).tz_localize("UTC")
    if timezone:
        try:
            utc = utc.tz_convert(timezone)
        except Exception:  # pandas raises several types for an unknown zone
            raise InputError(f"unknown timezone {timezone!r}") from None
    return np.asarray(utc.hour, dtype=int)


@dataclass(frozen=True)
class BloomDailyCycle:
    """The BLOOM-calibrated load shape at each gateway's local hour, with independent noise per gateway.

    Every gateway's load is ``peak_mw`` times the shape (a fraction of peak, within the trace's
    measured range [0.48, 1]); with the default 1 MW per gateway, as in the published scaling.
    """

    peak_mw: float = 1.0

    def __call__(self, timestamps: np.ndarray, sites: Sequence[Site], rng: np.random.Generator) -> np.ndarray:
        if not np.isfinite(self.peak_mw) or self.peak_mw <= 0:
            raise InputError(f"BloomDailyCycle.peak_mw must be a positive number of MW, got {self.peak_mw}")
        streams = rng.spawn(len(sites))
        shapes = [
            clip_workload(workload_shape(stream, local_hours(timestamps, site.timezone))) for stream, site in zip(streams, sites)
        ]
        return self.peak_mw * np.stack(shapes)

    def describe(self) -> str:
        return (
            f"BLOOM daily profile and AR(1) noise (envs/calibration.json) at each gateway's local hour, "
            f"independent per gateway, peak {self.peak_mw:g} MW per gateway"
        )
