"""The observed past of a scenario: the inputs of the hours right before its hour 0.

An operator who starts an episode (a week of the history benchmark) has observed the hours before it.
A scenario may carry them (:attr:`eglb.envs.scenario.Scenario.past`); forecasters and RHC's tail rules
read them only when their spec says so (``past=P``: docs/guide/information.md), as the hours
``-P .. -1`` of the scenario (:func:`eglb.envs.forecast.input_rows`). Capacity and mask are not part
of it: they are the operator's own plant, never forecast. The cost and the footprint of the past are
not part of the episode's objective either: the past is information, not history to be charged.

Slicing a scenario keeps the length of its past (:meth:`ObservedPast.before`): hours 24..48 of a
scenario with a 336-hour past carry the 336 hours before hour 24, its own first 24 hours included.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.validation import as_float_array, as_timestamps, require_bounded, require_finite, require_nonnegative

#: The input series of a past, in forecast-row order (the first three per region, workload per gateway).
PAST_SIGNALS = ("price", "carbon", "water", "workload")
ONE_HOUR = np.timedelta64(3600, "s")


@dataclass(frozen=True, eq=False)
class ObservedPast:
    """The observed inputs of P consecutive hours before a scenario's hour 0 (read-only arrays).

    Attributes:
        timestamps: [P] datetime64[s], consecutive UTC hours; the last is one hour before the
            scenario's first timestamp (the scenario checks it).
        price: [N, P] USD/MWh (may be negative). carbon: [N, P] t/MWh, >= 0.
        water: [N, P] m^3/MWh, >= 0. workload: [J, P] MW, >= 0.
    """

    timestamps: np.ndarray
    price: np.ndarray
    carbon: np.ndarray
    water: np.ndarray
    workload: np.ndarray

    def __post_init__(self) -> None:
        stamps = as_timestamps(self.timestamps, "past: argument 'timestamps' (no past is None)")
        steps = np.diff(stamps)
        if (steps != ONE_HOUR).any():
            k = int(np.argmax(steps != ONE_HOUR)) + 1
            raise InputError(f"past: timestamps[{k}] ({stamps[k]}) is not one hour after timestamps[{k - 1}] ({stamps[k - 1]})")
        stamps.setflags(write=False)
        object.__setattr__(self, "timestamps", stamps)
        for name in PAST_SIGNALS:
            values = np.ascontiguousarray(as_float_array(getattr(self, name), f"past.{name}"))
            if values.ndim != 2 or values.shape[1] != stamps.size:
                raise InputError(
                    f"past: argument {name!r} has shape {values.shape}, expected [rows, {stamps.size}] (one column per hour)"
                )

            def locate(index, name=name):
                return f"past.{name}[{index[0]}, {index[1]}] ({np.datetime_as_string(stamps[index[1]], unit='m')})"

            require_finite(values, name, locate)
            require_bounded(values, name, locate)
            if name != "price":
                require_nonnegative(values, name, locate)
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    @property
    def hours(self) -> int:
        """P, the number of hours."""
        return int(self.timestamps.size)

    @classmethod
    def of_hours(cls, scenario, start: int, stop: int) -> ObservedPast:
        """Hours ``start <= h < stop`` of ``scenario`` (an :class:`eglb.envs.scenario.Scenario`; its own hours,
        >= 0) as the past of what follows them."""
        if not 0 <= start < stop <= scenario.n_hours:
            raise InputError(f"past: hours {start}:{stop} are not inside {scenario.name!r}'s 0:{scenario.n_hours} hours")
        return cls(**{f.name: getattr(scenario, f.name)[..., start:stop] for f in fields(cls)})

    def before(self, scenario, start: int) -> ObservedPast:
        """The P hours before hour ``start`` of ``scenario`` (the :class:`eglb.envs.scenario.Scenario` whose
        past this is): this past, then the scenario's hours 0 .. start-1, the last P of them."""
        if start == 0:
            return self
        own = min(start, self.hours)
        kept = self.hours - own
        return ObservedPast(
            **{
                f.name: np.concatenate(
                    [getattr(self, f.name)[..., self.hours - kept :], getattr(scenario, f.name)[..., start - own : start]],
                    axis=-1,
                )
                for f in fields(self)
            }
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObservedPast):
            return NotImplemented
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ObservedPast({self.hours} h from {np.datetime_as_string(self.timestamps[0], unit='h')})"
