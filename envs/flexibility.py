"""The two other knobs of the model: deferrable jobs and model choice (docs/model/flexibility.md).

Spatial flexibility (route a request to another region) is the core model of SPEC section 2. This
module holds the data of the other two, each a frozen dataclass over read-only numpy arrays,
validated on construction, carried by :class:`eglb.envs.scenario.Scenario` (``scenario.jobs``,
``scenario.models``; None when a scenario has no such knob):

* :class:`Jobs`: deferrable work (training runs) that may pause and resume before a deadline and
  may run away from its home region, paying for the checkpoint's transfer.
* :class:`ModelChoice`: a request class that several models can serve, each with its energy per
  unit of load and an accuracy score, with a target for the average accuracy.

Units: energy MWh, power MW (MWh per hourly slot), money USD, hours are indices into the
scenario's hourly slots. Everything that must agree with the scenario (the number of regions and
hours, capacity) is checked by :meth:`Jobs.check_scenario`, which the scenario calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.validation import MAX_MAGNITUDE

#: Default price of unfinished work at a job's deadline, USD per MWh: far above any hour's price plus
#: its weighted footprints (published and history data: under 2,000 USD/MWh), so that the optimum
#: finishes every job it can; settable per job list.
DEFAULT_UNFINISHED_PENALTY = 10_000.0

#: Default price of the average accuracy falling short of the target, USD per accuracy point per MWh
#: of the class's requests (serving 1 MWh with an 8B instead of a 70B model saves a few hundred USD
#: and costs 14 points: about 30 USD per point and MWh).
DEFAULT_ACCURACY_PENALTY = 1_000.0

#: Work and energy below this many MWh count as zero when a job's progress is compared with its need.
WORK_TOLERANCE = 1e-9


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.ascontiguousarray(values)
    values.setflags(write=False)
    return values


def _numbers(values, name: str, count: int | None, what: str) -> np.ndarray:
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"argument {name!r} of {what} must be numeric") from None
    if array.ndim != 1 or (count is not None and array.size != count):
        expected = f"[{count}]" if count is not None else "a 1-D array"
        raise InputError(f"argument {name!r} of {what} has shape {array.shape}, expected {expected}")
    return array


def _hours(values, name: str, count: int, names: tuple[str, ...]) -> np.ndarray:
    array = _numbers(values, name, count, "the jobs")
    bad = ~np.isfinite(array) | (array != np.round(array))
    if bad.any():
        m = int(np.argmax(bad))
        raise InputError(f"job {names[m]!r} (job {m}): {name} must be a whole hour index, got {array[m]}")
    return array.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Jobs:
    """Deferrable jobs: M units of work, each with a window, a power limit and allowed regions.

    A job may run in hours ``release <= t < deadline`` (``deadline`` is exclusive: the work must be
    done by the start of hour ``deadline``), at any power from 0 to ``max_power`` each hour, pausing
    and resuming freely, split over its allowed regions (the fluid model: a job's work is divisible,
    as data-parallel training is). Its checkpoint sits in ``home``; work run in another allowed region
    ships the checkpoint there: per MWh of work run away from home it pays ``away_usd`` USD and draws
    ``away_overhead`` MWh of extra energy in the destination (the job's power while it waits for its
    checkpoint): a move's price and energy spread over the work it enables (one move per job:
    the move's price divided by the job's energy; :mod:`eglb.envs.job_stream` derives them from
    checkpoint sizes and transfer prices). Work not done by the deadline is a violation, charged
    ``penalty`` USD per MWh.

    Attributes:
        names: M unique job names.
        energy: [M] work to do, MWh (>= 0).
        release: [M] int, first hour the job may run (index into the scenario's hours).
        deadline: [M] int, the first hour it may no longer run (> release).
        max_power: [M] most work per hour, MW (> 0).
        regions: [M, N] bool, the regions it may run in.
        home: [M] int, the region holding its data and checkpoint (an allowed region).
        away_usd: [M] transfer price per MWh of work run away from home, USD/MWh (>= 0).
        away_overhead: [M] extra energy per MWh of work run away from home, MWh/MWh (>= 0),
            drawn in the destination region.
        penalty: USD per MWh of work left undone at a deadline (>= 0).
        carry_mwh: [M] work a job may leave past its deadline *as a plan* (<= energy; default 0),
            at ``carry_usd`` [M] USD per MWh instead of the penalty: a window planner
            (agents/knob_horizon.py) gives its jobs the work they can still do after the window,
            priced at what it will cost then. Not for job lists: there it is 0.
    """

    names: tuple[str, ...]
    energy: np.ndarray
    release: np.ndarray
    deadline: np.ndarray
    max_power: np.ndarray
    regions: np.ndarray
    home: np.ndarray
    away_usd: np.ndarray | None = None
    away_overhead: np.ndarray | None = None
    penalty: float = DEFAULT_UNFINISHED_PENALTY
    carry_mwh: np.ndarray | None = None
    carry_usd: np.ndarray | None = None

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        count = len(names)
        seen: dict[str, int] = {}
        for k, name in enumerate(names):
            if name in seen:
                raise InputError(f"job {k} repeats the name {name!r} of job {seen[name]}")
            seen[name] = k

        def job(m: int) -> str:
            return f"job {names[m]!r} (job {m})"

        arrays = {}
        for name, default in (
            ("energy", None),
            ("max_power", None),
            ("away_usd", 0.0),
            ("away_overhead", 0.0),
            ("carry_mwh", 0.0),
            ("carry_usd", 0.0),
        ):
            values = getattr(self, name)
            values = np.full(count, default) if values is None else _numbers(values, name, count, "the jobs")
            bad = ~np.isfinite(values) | (values < 0) | (values > MAX_MAGNITUDE)
            if bad.any():
                m = int(np.argmax(bad))
                raise InputError(f"{job(m)}: {name} must be a finite number in 0..{MAX_MAGNITUDE:g}, got {values[m]}")
            arrays[name] = values
        if (arrays["carry_mwh"] > arrays["energy"]).any():
            m = int(np.argmax(arrays["carry_mwh"] > arrays["energy"]))
            raise InputError(f"{job(m)}: carry_mwh {arrays['carry_mwh'][m]} is more than its energy {arrays['energy'][m]}")
        if (arrays["max_power"] <= 0).any():
            m = int(np.argmax(arrays["max_power"] <= 0))
            raise InputError(f"{job(m)}: max_power must be > 0 MW, got {arrays['max_power'][m]}")
        release = _hours(self.release, "release", count, names)
        deadline = _hours(self.deadline, "deadline", count, names)
        if (release < 0).any():
            m = int(np.argmax(release < 0))
            raise InputError(f"{job(m)}: release hour {release[m]} is before the scenario's first hour 0")
        if (deadline <= release).any():
            m = int(np.argmax(deadline <= release))
            raise InputError(
                f"{job(m)}: deadline hour {deadline[m]} is not after its release hour {release[m]} "
                "(the job may run in hours release <= t < deadline)"
            )
        reach = arrays["max_power"] * (deadline - release)
        short = arrays["energy"] - arrays["carry_mwh"] > reach * (1 + 1e-12) + WORK_TOLERANCE
        if short.any():
            m = int(np.argmax(short))
            raise InputError(
                f"{job(m)}: {arrays['energy'][m]:.6g} MWh cannot be done at {arrays['max_power'][m]:.6g} MW in its "
                f"{deadline[m] - release[m]} hours (at most {reach[m]:.6g} MWh)"
            )
        regions = np.asarray(self.regions)
        if regions.ndim != 2 or regions.shape[0] != count:
            raise InputError(f"argument 'regions' of the jobs has shape {regions.shape}, expected ({count}, N) jobs x regions")
        if regions.dtype != bool:
            numeric = np.asarray(regions, dtype=float)
            if not np.isin(numeric, (0.0, 1.0)).all():
                m = int(np.argmax(~np.isin(numeric, (0.0, 1.0)).all(axis=1)))
                raise InputError(f"{job(m)}: its allowed regions must be given as 0/1")
            regions = numeric.astype(bool)
        if count and not regions.any(axis=1).all():
            m = int(np.argmax(~regions.any(axis=1)))
            raise InputError(f"{job(m)}: no region is allowed")
        home = _hours(self.home, "home", count, names)
        if ((home < 0) | (home >= regions.shape[1])).any():
            m = int(np.argmax((home < 0) | (home >= regions.shape[1])))
            raise InputError(f"{job(m)}: home region index {home[m]} is not in 0..{regions.shape[1] - 1}")
        if count and not regions[np.arange(count), home].all():
            m = int(np.argmin(regions[np.arange(count), home]))
            raise InputError(f"{job(m)}: its home region (index {home[m]}) is not among its allowed regions")
        penalty = float(self.penalty)
        if not np.isfinite(penalty) or penalty < 0 or penalty > MAX_MAGNITUDE:
            raise InputError(f"the jobs' unfinished-work penalty must be a finite number of USD/MWh >= 0, got {self.penalty}")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "penalty", penalty)
        for name, values in (*arrays.items(), ("release", release), ("deadline", deadline), ("regions", regions), ("home", home)):
            object.__setattr__(self, name, _frozen(values))

    # ----------------------------------------------------------------------------------- sizes
    @property
    def count(self) -> int:
        return len(self.names)

    def __len__(self) -> int:
        return self.count

    @property
    def n_regions(self) -> int:
        return int(self.regions.shape[1])

    @cached_property
    def hours(self) -> tuple[np.ndarray, np.ndarray]:
        """(job [L], hour [L]) of every hour of every job's window, job-major: L = sum of window lengths."""
        return window_hours(self.release, self.deadline)

    @cached_property
    def length(self) -> np.ndarray:
        """[M] hours in each job's window."""
        return _frozen(self.deadline - self.release)

    # ----------------------------------------------------------------------------------- scenario
    def check_scenario(self, regions: tuple[str, ...], hours: int, spare: dict[bytes, np.ndarray]) -> None:
        """Raise naming the first job that does not fit the scenario.

        Every job must lie inside the scenario's hours and must be possible alone: the work its
        allowed regions can take in its window, at most ``max_power`` per hour and at most the
        capacity the interactive load must leave them, covers its energy. (Whether all jobs fit
        together is an LP: :func:`eglb.agents.deliverable.check_deliverable`.)

        Args:
            regions: the scenario's N region names.
            hours: its T hours.
            spare: :func:`spare_capacity` of the scenario.
        """
        n = len(regions)
        if self.n_regions != n:
            raise InputError(f"the jobs' allowed regions have {self.n_regions} columns, the scenario has {n} regions")
        late = self.deadline > hours
        if late.any():
            m = int(np.argmax(late))
            raise InputError(
                f"job {self.names[m]!r} (job {m}): deadline hour {self.deadline[m]} is after the scenario's last hour {hours - 1} "
                f"(the scenario has {hours} hours)"
            )
        need = self.energy - self.carry_mwh
        for m in range(self.count):
            if need[m] <= WORK_TOLERANCE:
                continue
            allowed = self.regions[m]
            room = spare[allowed.tobytes()]
            window = slice(int(self.release[m]), int(self.deadline[m]))
            most = float(np.minimum(room[window], self.max_power[m]).sum())
            if need[m] > most * (1 + 1e-9) + WORK_TOLERANCE:
                names = [regions[i] for i in np.flatnonzero(allowed)]
                raise InputError(
                    f"job {self.names[m]!r} (job {m}): {self.energy[m]:.6g} MWh cannot be done in hours "
                    f"{self.release[m]}..{self.deadline[m] - 1}: its allowed regions {names} can give it at most "
                    f"{most:.6g} MWh there (at most {self.max_power[m]:.6g} MW per hour, within the capacity the "
                    f"interactive load leaves them), {self.energy[m] - most:.6g} MWh short"
                )

    def window(self, start: int, stop: int) -> Jobs | None:
        """The jobs whose whole window lies in hours start..stop-1, with hours counted from ``start``
        (what :meth:`Scenario.window` keeps); None when no job does."""
        keep = (self.release >= start) & (self.deadline <= stop)
        if not keep.any():
            return None
        return self.subset(keep, shift=start)

    def subset(self, keep: np.ndarray, shift: int = 0) -> Jobs:
        """The jobs where ``keep`` [M] bool is True, their hours moved ``shift`` earlier."""
        index = np.flatnonzero(keep)
        return Jobs(
            names=tuple(self.names[m] for m in index),
            energy=self.energy[index],
            release=self.release[index] - shift,
            deadline=self.deadline[index] - shift,
            max_power=self.max_power[index],
            regions=self.regions[index],
            home=self.home[index],
            away_usd=self.away_usd[index],
            away_overhead=self.away_overhead[index],
            penalty=self.penalty,
            carry_mwh=self.carry_mwh[index],
            carry_usd=self.carry_usd[index],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Jobs):
            return NotImplemented
        return (
            self.names == other.names
            and self.penalty == other.penalty
            and all(
                np.array_equal(getattr(self, name), getattr(other, name))
                for name in (
                    "energy",
                    "release",
                    "deadline",
                    "max_power",
                    "regions",
                    "home",
                    "away_usd",
                    "away_overhead",
                    "carry_mwh",
                    "carry_usd",
                )
            )
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Jobs({self.count} jobs, {float(self.energy.sum()):.6g} MWh, penalty {self.penalty:g} USD/MWh)"


def window_hours(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For windows [starts[p], stops[p]): (owner [L], hour [L]) of every (window, hour) pair, window-major."""
    lengths = np.asarray(stops) - np.asarray(starts)
    owner = np.repeat(np.arange(lengths.size), lengths)
    offsets = np.cumsum(lengths) - lengths
    hour = np.arange(int(lengths.sum())) - np.repeat(offsets, lengths) + np.repeat(starts, lengths)
    return owner, hour


def spare_capacity(jobs: Jobs, capacity: np.ndarray, class_mask: np.ndarray, class_demand: np.ndarray) -> dict[bytes, np.ndarray]:
    """For each distinct set of allowed regions R of the jobs: [T] the capacity of R that the
    interactive load must leave free, sum_{i in R} M[i, t] - the load of the gateway classes whose
    allowed regions all lie in R (Hall's bound: no routing puts less of the load into R).

    Args:
        capacity: [N, T] MW. class_mask: [N, K] bool (``Scenario.mask_classes.mask``).
        class_demand: [K, T] MW of each gateway class.
    """
    spare: dict[bytes, np.ndarray] = {}
    for allowed in np.unique(jobs.regions, axis=0):
        inside = ~(class_mask & ~allowed[:, None]).any(axis=0)
        spare[allowed.tobytes()] = np.maximum(capacity[allowed].sum(axis=0) - class_demand[inside].sum(axis=0), 0.0)
    return spare


@dataclass(frozen=True, eq=False)
class ModelChoice:
    """Models that can serve one request class, and the accuracy the class must keep on average.

    The scenario's workload is measured at model 0 (its energy is 1 by definition); model k serves
    the same requests with ``energy[k]`` times the energy. A share ``share`` of every gateway's load
    belongs to the class; the rest is always served by model 0. Over the horizon the class's average
    accuracy, weighted by requests, should reach ``target``; each accuracy point below it costs
    ``penalty`` USD per MWh of the class's requests (measured at model 0).

    Attributes:
        names: K model names (model 0 first: the one the workload is measured at).
        energy: [K] energy per unit of load relative to model 0 (energy[0] = 1, all > 0).
        accuracy: [K] accuracy scores (e.g. MMLU 5-shot, %).
        target: the least average accuracy of the class, same unit as ``accuracy``.
        share: the share of every gateway's load in the class, in (0, 1].
        penalty: USD per accuracy point short per MWh of class requests (>= 0).
    """

    names: tuple[str, ...]
    energy: np.ndarray
    accuracy: np.ndarray
    target: float
    share: float = 1.0
    penalty: float = DEFAULT_ACCURACY_PENALTY

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        if len(names) < 1:
            raise InputError("a model choice needs at least one model")
        if len(set(names)) != len(names):
            raise InputError(f"model names repeat: {list(names)}")
        energy = _numbers(self.energy, "energy", len(names), "the models")
        accuracy = _numbers(self.accuracy, "accuracy", len(names), "the models")
        for name, values in (("energy", energy), ("accuracy", accuracy)):
            bad = ~np.isfinite(values) | (np.abs(values) > MAX_MAGNITUDE)
            if bad.any():
                k = int(np.argmax(bad))
                raise InputError(f"model {names[k]!r}: {name} must be a finite number, got {values[k]}")
        if energy[0] != 1.0:
            raise InputError(
                f"model {names[0]!r} (model 0) is the one the workload is measured at: its energy must be 1, got {energy[0]}"
            )
        if (energy <= 0).any():
            k = int(np.argmax(energy <= 0))
            raise InputError(f"model {names[k]!r}: energy per unit of load must be > 0, got {energy[k]}")
        for name, low, high in (("target", -MAX_MAGNITUDE, MAX_MAGNITUDE), ("share", 0.0, 1.0), ("penalty", 0.0, MAX_MAGNITUDE)):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"model choice {name} must be a number, got {value!r}") from None
            if not np.isfinite(value) or not low <= value <= high or (name == "share" and value == 0):
                raise InputError(
                    f"model choice {name} must be a finite number in {'(' if name == 'share' else ''}{low:g}..{high:g}, got {value}"
                )
            object.__setattr__(self, name, value)
        if self.target > accuracy.max():
            raise InputError(
                f"model choice target accuracy {self.target:g} is above the best model's ({names[int(accuracy.argmax())]!r}, "
                f"{accuracy.max():g}): no mix reaches it"
            )
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "energy", _frozen(energy))
        object.__setattr__(self, "accuracy", _frozen(accuracy))

    @property
    def count(self) -> int:
        return len(self.names)

    @cached_property
    def surplus(self) -> np.ndarray:
        """[K] accuracy above the target of each model (points; negative below it)."""
        return _frozen(self.accuracy - self.target)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelChoice):
            return NotImplemented
        return (
            self.names == other.names
            and (self.target, self.share, self.penalty) == (other.target, other.share, other.penalty)
            and np.array_equal(self.energy, other.energy)
            and np.array_equal(self.accuracy, other.accuracy)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        models = ", ".join(f"{n} (x{e:g}, {a:g})" for n, e, a in zip(self.names, self.energy, self.accuracy))
        return f"ModelChoice({models}; target {self.target:g}, share {self.share:g})"


@dataclass(frozen=True)
class ModelPreset:
    """A model choice from published measurements, with its sources (FLEXIBILITY.md section 3)."""

    names: tuple[str, ...]
    energy_per_request_j: tuple[float, ...]
    accuracy: tuple[float, ...]
    source: str = field(default="")

    def choice(self, target: float, share: float = 1.0, penalty: float = DEFAULT_ACCURACY_PENALTY) -> ModelChoice:
        """The :class:`ModelChoice` of these models (energy relative to the first), with a target."""
        energy = np.array(self.energy_per_request_j) / self.energy_per_request_j[0]
        return ModelChoice(self.names, energy, np.array(self.accuracy), target, share, penalty)


#: Llama 3.1 70B against 8B on H100s under vLLM (ML.ENERGY Benchmark, Chung et al., NeurIPS D&B 2025,
#: data as of Feb 2026: 202 J and 38.5 J per request at batch 128; 1,315 J and 177 J at batch 8) with
#: their MMLU 5-shot scores (83.6 and 69.4, meta-llama/llama-models MODEL_CARD.md of Llama 3.1).
MODEL_PRESETS = {
    "llama3.1-batch128": ModelPreset(
        ("llama-3.1-70b", "llama-3.1-8b"), (202.0, 38.5), (83.6, 69.4), "ML.ENERGY Benchmark (batch 128); Llama 3.1 model card"
    ),
    "llama3.1-batch8": ModelPreset(
        ("llama-3.1-70b", "llama-3.1-8b"), (1315.0, 177.0), (83.6, 69.4), "ML.ENERGY Benchmark (batch 8); Llama 3.1 model card"
    ),
}
