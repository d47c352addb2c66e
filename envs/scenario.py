"""The scenario: every input of an eGLB problem over a horizon of hourly slots.

A :class:`Scenario` is immutable (a frozen dataclass over read-only numpy arrays) and validated on
construction: every later component can trust its shapes, signs and that every hour is servable.
Slicing a scenario along time (``scenario[24:48]`` or :meth:`Scenario.window`) gives a scenario.

Units (SPEC section 2): price USD/MWh, carbon intensity t/MWh (= kg/kWh), water intensity m^3/MWh
(= L/kWh), workload MW of IT power (MWh per hourly slot), capacity MW, mu_water USD/m^3,
mu_carbon USD/t.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.flexibility import Jobs, ModelChoice, spare_capacity
from eglb.envs.flow import FEASIBILITY_TOLERANCE, MAX_HALL_CLASSES, hall_sets, servable_scale
from eglb.envs.past import ONE_HOUR, ObservedPast
from eglb.envs.validation import (
    MAX_MAGNITUDE,
    as_float_array,
    as_timestamps,
    first_index,
    require_bounded,
    require_finite,
    require_nonnegative,
    require_shape,
)


def hourly_timestamps(start: str | np.datetime64, hours: int) -> np.ndarray:
    """``hours`` consecutive hourly timestamps from ``start`` (datetime64[s], shape [hours])."""
    first = np.datetime64(start, "h")
    return (first + np.arange(hours, dtype=np.int64)).astype("datetime64[s]")


@dataclass(frozen=True)
class MaskClasses:
    """Gateways grouped by identical columns of the mask (identical sets of allowed regions).

    Gateways with the same neighbourhood are interchangeable for every region-priced problem, so
    routing and feasibility work on classes: the published partial mask has 5 classes for 10 gateways.

    Attributes:
        of_gateway: [J] int, class index of each gateway.
        mask: [N, K] bool, which regions may serve each class.
        members: K tuples of gateway indices.
    """

    of_gateway: np.ndarray
    mask: np.ndarray
    members: tuple[tuple[int, ...], ...]

    @property
    def count(self) -> int:
        return self.mask.shape[1]

    def demand(self, workload: np.ndarray) -> np.ndarray:
        """Sum gateway workload [J, ...] into class workload [K, ...]."""
        out = np.zeros((self.count,) + workload.shape[1:])
        np.add.at(out, self.of_gateway, workload)
        return out


@dataclass(frozen=True, eq=False)
class Scenario:
    """All inputs of an eGLB problem over T hourly slots, N regions and J gateways.

    Attributes:
        regions: N region (data-center) names.
        gateways: J gateway names.
        timestamps: [T] datetime64[s], strictly increasing, the start of each hourly slot (UTC).
        price: [N, T] electricity price, USD/MWh (may be negative).
        carbon: [N, T] carbon intensity, t/MWh, >= 0.
        water: [N, T] water intensity (on-site WUE plus off-site electricity water), m^3/MWh, >= 0.
        workload: [J, T] load arriving at each gateway, MW (MWh per slot), >= 0.
        capacity: [N, T] capacity of each region, MW, >= 0. A [N] vector is accepted and repeated
            for every hour (hour-dependent capacity expresses outages).
        mask: [N, J] bool, mask[i, j] says region i may serve gateway j.
        mu_water: weight of the worst region's water footprint, USD/m^3.
        mu_carbon: weight of the worst region's carbon footprint, USD/t.
        name: a label used in reports.
        metadata: where the inputs came from and what was done to them on the way (sources, fills,
            dropped and duplicate rows, stand-ins; see :mod:`eglb.importers.history`), a JSON-ready dict.
            It describes the inputs and does not take part in equality; slicing and
            :meth:`with_changes` carry it along unchanged.
        jobs: deferrable jobs (:class:`eglb.envs.flexibility.Jobs`), or None: none.
        models: the models that may serve the load (:class:`eglb.envs.flexibility.ModelChoice`),
            or None: the workload's own model only.
        past: the observed inputs of the hours right before hour 0 (:class:`eglb.envs.past.ObservedPast`:
            price, carbon, water [N, P], workload [J, P], consecutive hours ending one hour before
            ``timestamps[0]``), or None: none. Only forecasters and tail rules whose spec says ``past=P``
            read it; it takes no part in the objective.
    """

    regions: tuple[str, ...]
    gateways: tuple[str, ...]
    timestamps: np.ndarray
    price: np.ndarray
    carbon: np.ndarray
    water: np.ndarray
    workload: np.ndarray
    capacity: np.ndarray
    mask: np.ndarray
    mu_water: float = 60.0
    mu_carbon: float = 1500.0
    name: str = field(default="scenario")
    metadata: dict = field(default_factory=dict, compare=False)
    jobs: Jobs | None = None
    models: ModelChoice | None = None
    past: ObservedPast | None = None

    def __post_init__(self) -> None:
        regions = tuple(str(r) for r in self.regions)
        gateways = tuple(str(g) for g in self.gateways)
        _require_unique(regions, "regions")
        _require_unique(gateways, "gateways")
        n, j = len(regions), len(gateways)
        if n == 0 or j == 0:
            raise InputError("a scenario needs at least one region and one gateway")
        stamps = as_timestamps(self.timestamps, "argument 'timestamps'")
        t = stamps.size
        _require_increasing(stamps, lambda k: f"timestamps[{k}]")

        def hour(k: int) -> str:
            return f"hour {k} ({np.datetime_as_string(stamps[k], unit='m')})"

        arrays = {}
        for name, rows, labels, meaning in (
            ("price", n, regions, "regions x hours, USD/MWh"),
            ("carbon", n, regions, "regions x hours, t/MWh"),
            ("water", n, regions, "regions x hours, m^3/MWh"),
            ("workload", j, gateways, "gateways x hours, MW"),
        ):
            values = as_float_array(getattr(self, name), name)
            require_shape(values, (rows, t), name, meaning)
            kind = "gateway" if name == "workload" else "region"

            def locate(idx, name=name, labels=labels, kind=kind):
                return f"{name}[{idx[0]}, {idx[1]}] ({kind} {labels[idx[0]]!r}, {hour(idx[1])})"

            require_finite(values, name, locate)
            require_bounded(values, name, locate)
            if name != "price":
                require_nonnegative(values, name, locate)
            arrays[name] = values

        capacity = as_float_array(self.capacity, "capacity")
        if capacity.shape == (n,):
            capacity = np.repeat(capacity[:, None], t, axis=1)
        require_shape(capacity, (n, t), "capacity", f"[{n}] or [{n}, {t}] regions (x hours), MW")

        def locate_capacity(idx):
            return f"capacity[{idx[0]}, {idx[1]}] (region {regions[idx[0]]!r}, {hour(idx[1])})"

        require_finite(capacity, "capacity", locate_capacity)
        require_bounded(capacity, "capacity", locate_capacity)
        require_nonnegative(capacity, "capacity", locate_capacity)
        arrays["capacity"] = capacity

        mask = np.asarray(self.mask)
        require_shape(mask, (n, j), "mask", "regions x gateways, 0/1")
        if mask.dtype != bool:
            numeric = as_float_array(mask, "mask")
            bad = ~np.isin(numeric, (0.0, 1.0))
            if bad.any():
                i, g = first_index(bad)
                raise InputError(f"mask[{i}, {g}] must be 0 or 1, got {numeric[i, g]}")
            mask = numeric.astype(bool)
        unserved = ~mask.any(axis=0)
        if unserved.any():
            g = int(np.argmax(unserved))
            raise InputError(f"mask leaves gateway {gateways[g]!r} (column {g}) with no region allowed to serve it")
        arrays["mask"] = mask

        for name in ("mu_water", "mu_carbon"):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"argument {name!r} must be a number, got {value!r}") from None
            if not np.isfinite(value) or value < 0 or value > MAX_MAGNITUDE:
                raise InputError(f"argument {name!r} must be a finite number in 0..{MAX_MAGNITUDE:g}, got {value}")
            object.__setattr__(self, name, value)

        for name, values in arrays.items():
            values = np.ascontiguousarray(values)
            values.setflags(write=False)
            object.__setattr__(self, name, values)
        stamps = stamps.copy()
        stamps.setflags(write=False)
        object.__setattr__(self, "timestamps", stamps)
        object.__setattr__(self, "regions", regions)
        object.__setattr__(self, "gateways", gateways)
        object.__setattr__(self, "name", str(self.name))
        if not isinstance(self.metadata, Mapping):
            raise InputError(f"argument 'metadata' must be a mapping, got {type(self.metadata).__name__}")
        object.__setattr__(self, "metadata", dict(self.metadata))
        self._check_past()
        self._check_hourly_feasibility()
        self._check_knobs()

    # ----------------------------------------------------------------------------------- sizes
    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_gateways(self) -> int:
        return len(self.gateways)

    @property
    def n_hours(self) -> int:
        return int(self.timestamps.size)

    def __len__(self) -> int:
        return self.n_hours

    @property
    def past_hours(self) -> int:
        """P, the observed hours before hour 0 the scenario carries (0: none)."""
        return 0 if self.past is None else self.past.hours

    @cached_property
    def total_workload(self) -> np.ndarray:
        """[T] total load over all gateways, MW."""
        return self.workload.sum(axis=0)

    @cached_property
    def intensity(self) -> np.ndarray:
        """[2, N, T] water (m^3/MWh) and carbon (t/MWh) intensity, the footprint per MWh."""
        stacked = np.stack([self.water, self.carbon])
        stacked.setflags(write=False)
        return stacked

    @cached_property
    def footprint_weights(self) -> np.ndarray:
        """[2] (mu_water USD/m^3, mu_carbon USD/t), the weights of the footprint rows."""
        weights = np.array([self.mu_water, self.mu_carbon])
        weights.setflags(write=False)
        return weights

    @cached_property
    def full_mask(self) -> bool:
        """True when every region may serve every gateway."""
        return bool(self.mask.all())

    @property
    def flexible(self) -> bool:
        """True when the scenario has deferrable jobs or a choice of models (docs/model/flexibility.md).

        No jobs and a single model are no knob: such a scenario is the core model, number for number."""
        return (self.jobs is not None and self.jobs.count > 0) or (self.models is not None and self.models.count > 1)

    @cached_property
    def mask_classes(self) -> MaskClasses:
        """Gateways grouped by identical mask columns (see :class:`MaskClasses`)."""
        columns, of_gateway = np.unique(self.mask.T, axis=0, return_inverse=True)
        of_gateway = of_gateway.reshape(-1)
        members = tuple(tuple(int(g) for g in np.flatnonzero(of_gateway == k)) for k in range(len(columns)))
        return MaskClasses(of_gateway=of_gateway, mask=np.ascontiguousarray(columns.T), members=members)

    # ----------------------------------------------------------------------------------- time
    def window(self, start: int, stop: int) -> Scenario:
        """The hours ``start <= t < stop`` as a scenario (indices into this scenario)."""
        if not (0 <= start < stop <= self.n_hours):
            raise InputError(f"hour window {start}:{stop} is not inside this scenario's 0:{self.n_hours} hours")
        sliced = {
            name: getattr(self, name)[..., start:stop]
            for name in ("timestamps", "price", "carbon", "water", "workload", "capacity")
        }
        if self.jobs is not None:  # the jobs whose whole window lies in the window
            sliced["jobs"] = self.jobs.window(start, stop)
        if self.past is not None:  # as many observed hours before the window as before hour 0
            sliced["past"] = self.past.before(self, start)
        return replace(self, **sliced)

    def __getitem__(self, hours: slice) -> Scenario:
        if not isinstance(hours, slice) or hours.step not in (None, 1):
            raise InputError("a scenario is sliced by a contiguous range of hours, e.g. scenario[24:48]")
        start, stop, _ = hours.indices(self.n_hours)
        return self.window(start, stop)

    def with_changes(self, **changes) -> Scenario:
        """A validated copy with some fields replaced (used by distribution shifts)."""
        return replace(self, **changes)

    # ----------------------------------------------------------------------------------- equality
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return all(_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self) if f.compare)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Scenario({self.name!r}, N={self.n_regions}, J={self.n_gateways}, T={self.n_hours}, "
            f"{'full' if self.full_mask else 'partial'} mask, mu_water={self.mu_water}, mu_carbon={self.mu_carbon}"
            + (f", {self.jobs.count} jobs" if self.jobs is not None else "")
            + (f", {self.models.count} models" if self.models is not None else "")
            + (f", {self.past_hours} h past" if self.past is not None else "")
            + ")"
        )

    # ----------------------------------------------------------------------------------- feasibility
    def _check_past(self) -> None:
        """The past's rows match the regions and gateways, and its last hour is the hour before hour 0."""
        if self.past is None:
            return
        if not isinstance(self.past, ObservedPast):
            raise InputError(f"argument 'past' must be an eglb.envs.past.ObservedPast or None, got {type(self.past).__name__}")
        for name, rows in (
            ("price", self.n_regions),
            ("carbon", self.n_regions),
            ("water", self.n_regions),
            ("workload", self.n_gateways),
        ):
            if getattr(self.past, name).shape[0] != rows:
                raise InputError(
                    f"past.{name} has {getattr(self.past, name).shape[0]} rows, expected {rows} (one per "
                    f"{'gateway' if name == 'workload' else 'region'})"
                )
        last, first = self.past.timestamps[-1], self.timestamps[0]
        if last + ONE_HOUR != first:
            raise InputError(
                f"the past's last hour ({np.datetime_as_string(last, unit='m')}) must be the hour before the scenario's "
                f"first ({np.datetime_as_string(first, unit='m')})"
            )

    def _check_knobs(self) -> None:
        """Check the jobs and the model choice against the scenario (each job alone; all jobs together
        is an LP: :func:`eglb.agents.deliverable.check_deliverable`)."""
        if self.models is not None and not isinstance(self.models, ModelChoice):
            raise InputError(f"argument 'models' must be an eglb.envs.flexibility.ModelChoice, got {type(self.models).__name__}")
        if self.jobs is None:
            return
        if not isinstance(self.jobs, Jobs):
            raise InputError(f"argument 'jobs' must be an eglb.envs.flexibility.Jobs, got {type(self.jobs).__name__}")
        classes = self.mask_classes
        spare = spare_capacity(self.jobs, self.capacity, classes.mask, classes.demand(self.workload))
        self.jobs.check_scenario(self.regions, self.n_hours, spare)

    def _check_hourly_feasibility(self) -> None:
        """Raise naming the first hour whose workload cannot be served under mask and capacity."""
        classes = self.mask_classes
        if classes.count > MAX_HALL_CLASSES:
            short = np.flatnonzero(servable_scale(self.workload, self.capacity, self.mask) < 1.0)
            if short.size:
                self._raise_infeasible(int(short[0]), tuple(range(classes.count)))
            return
        # Hall's condition (Gale's theorem for flows): every set S of classes needs at most the
        # capacity of the regions allowed to serve S. Whole classes suffice: adding a gateway whose
        # neighbourhood is already covered raises the demand without raising the capacity.
        subsets, reachable = hall_sets(classes.mask)
        need = subsets @ classes.demand(self.workload)
        have = reachable @ self.capacity
        excess = need - have * (1 + FEASIBILITY_TOLERANCE) - FEASIBILITY_TOLERANCE
        if (excess > 0).any():
            t = int(np.argmax((excess > 0).any(axis=0)))
            s = int(np.argmax(excess[:, t]))
            self._raise_infeasible(t, tuple(int(c) for c in np.flatnonzero(subsets[s])))

    def _raise_infeasible(self, t: int, class_ids: tuple[int, ...]) -> None:
        classes = self.mask_classes
        gateways = sorted(g for c in class_ids for g in classes.members[c])
        regions = np.flatnonzero(classes.mask[:, list(class_ids)].any(axis=1))
        need = float(self.workload[gateways, t].sum())
        have = float(self.capacity[regions, t].sum())
        raise InputError(
            f"hour {t} ({np.datetime_as_string(self.timestamps[t], unit='m')}): the workload cannot be served "
            f"within capacity under the mask: gateways {[self.gateways[g] for g in gateways]} need "
            f"{need:.6g} MW but the regions allowed to serve them {[self.regions[i] for i in regions]} "
            f"have {have:.6g} MW"
        )


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b))
    return a == b


def _require_unique(names: Sequence[str], what: str) -> None:
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            raise InputError(f"{what}[{k}] repeats the name {name!r} of {what}[{seen[name]}]")
        seen[name] = k


def _require_increasing(stamps: np.ndarray, locate) -> None:
    if np.isnat(stamps).any():
        k = int(np.argmax(np.isnat(stamps)))
        raise InputError(f"{locate(k)} is not a valid timestamp")
    steps = np.diff(stamps.astype(np.int64))
    if (steps == 0).any():
        k = int(np.argmax(steps == 0)) + 1
        raise InputError(f"{locate(k)} duplicates the previous timestamp {stamps[k]}")
    if (steps < 0).any():
        k = int(np.argmax(steps < 0)) + 1
        raise InputError(
            f"{locate(k)} ({stamps[k]}) is earlier than the one before it ({stamps[k - 1]}); timestamps must increase"
        )
