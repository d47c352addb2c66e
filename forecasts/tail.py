"""A learned tail: what the hours after a planning window will look like, by hour of day.

Receding-horizon control (agents/rhc.py) plans a window [t, stop) of an episode that ends at hour T;
the equity term charges whole-episode footprints, so the plan must say something about the hours
[stop, T) after the window. The ``seasonal`` tail rule (agents/horizon.py) stands them in by 24
aggregated hour-of-day slots whose inputs are the mean of that hour of day over the observed past.
On weeks of 2023 (the selection year), replacing those inputs by the true hour-of-day means of the
tail (an oracle) closes most of RHC's gap to the optimum, while perfect forecasts inside the window
close much less of it: what separates RHC from the optimum is mostly what it assumes about the hours
beyond its window. Early in an episode the observed past is a few hours, so the seasonal
rule's tail is flat at whatever the current hour of the daily cycle shows.

:class:`ProfileTail` learns the daily cycle from training years: per series (a region's price,
carbon or water intensity, a gateway's workload; matched by name) and calendar month, the mean
deviation of each UTC hour of day from the month's mean, an additive profile ``shape[month, hour, s]``
fitted on the training scenarios (a bootstrap resample of their days, drawn by the seed). At hour t
it predicts the tail's hour-of-day means as

    level + shape[month(t), hour, s],   level = mean over the last ``level_hours`` observed hours of
                                                 (value - shape[month, hour of that value, s]),

the observed level with the learned cycle, and blends in the observed hour-of-day means as they
accumulate (weight min(1, observed hours / ``blend_hours``) where an hour of day has been seen).
With ``past=P`` (:mod:`eglb.envs.past`) the P observed hours before the episode count as observed
hours for the level and the blend: once ``blend_hours`` of them exist the prediction is the observed
hour-of-day means of the last ``max(level_hours, 168)`` hours, the seasonal rule with a week of days.
Only levels are read from the episode, so a year with other price levels (2023 after 2022's crisis)
shifts the prediction with it; only the shape of the cycle is carried over from the training years.
A network that learned the tail's level as well (trained on 2021-2022 and tried on 2023) did worse
than the seasonal rule: levels do not carry over across the 2022 to 2023 price shift. Nor did a
correction of the seasonal 14-day tail with a past (ridge regressions per signal, shared across
regions, on the tail's hour-of-day means relative to the seasonal ones, from the last 1, 7 and 14 days,
the same hours one and two weeks back, the current deviation and the published prices; trained on
2021-2022): its tail means were a few percent closer to the truth on 2023, yet RHC did no better with
them. What an oracle tail gains comes mostly from each region's price level over the tail hours, and
that level is barely predictable from this information.

A fitted tail is a folder: ``tail.json`` (format name and version, settings, series names, what it
was fitted on) and ``profile.npz`` (the [12, 24, S] shape, read with ``allow_pickle=False``). The
reference tails behind the documented tables ship with the package (``forecasts/reference/``) and
are named ``reference:NAME`` (e.g. ``tail_model=reference:history14/seed-0``).

Several training seeds of a tail form a group (``train_tail --seeds 0-2``): a folder with one tail
per seed in ``seed-K/`` and ``tails.json`` naming the seeds. ``tail_model=GROUP`` (e.g.
``reference:history14``) stands for every seed, as a run group does for trained policies: evaluation
gives one row per seed and aggregates over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write, atomic_write_json, load_arrays, read_json
from eglb.envs.forecast import earliest_hour, input_rows, input_timestamps, signal_columns
from eglb.envs.limits import MAX_WINDOW_HOURS, check_size
from eglb.envs.scenario import Scenario
from eglb.envs.validation import MAX_SEEDS

FORMAT = "eglb-profile-tail"
FORMAT_VERSION = 1
CONFIG_FILE = "tail.json"
PROFILE_FILE = "profile.npz"
#: A tail group (several training seeds, like a run group): ``tails.json`` names the seeds, each in ``seed-K/``.
GROUP_FILE = "tails.json"
GROUP_FORMAT = "eglb-tail-group/1"
#: The reference tails shipped with the package (``reference:NAME``).
REFERENCE = Path(__file__).resolve().parent / "reference"
#: Bound on the series a tail file may describe (sizes read from a file are bounded before allocating).
MAX_SERIES = 4096
#: Default hours of observed past over which the level is measured, and over which observed
#: hour-of-day means take over from the learned profile (chosen on the weeks of 2023).
LEVEL_HOURS = 168
BLEND_HOURS = 24


def series_names(scenario: Scenario) -> list[str]:
    """The name of every input series, in forecast-row order: ``price:REGION``, ..., ``workload:GATEWAY``."""
    names = []
    for signal, columns in signal_columns(scenario).items():
        owners = scenario.gateways if signal == "workload" else scenario.regions
        names += [f"{signal}:{owner}" for owner in owners[: columns.stop - columns.start]]
    return names


def _month(timestamps: np.ndarray) -> np.ndarray:
    return (timestamps.astype("datetime64[M]").astype(np.int64) % 12).astype(int)


def _hour_of_day(timestamps: np.ndarray) -> np.ndarray:
    return (timestamps.astype("datetime64[h]").astype(np.int64) % 24).astype(int)


@dataclass(frozen=True)
class ProfileTail:
    """A fitted tail (see the module docstring); build with :func:`fit_profile_tail` or :func:`load_tail`.

    Attributes:
        series: S series names (:func:`series_names`), the columns of ``shape``.
        shape: [12, 24, S] the learned deviation of each UTC hour of day from its month's mean, in
            each series' units (USD/MWh, t/MWh, m^3/MWh, MW).
        level_hours: observed hours the level is measured over. blend_hours: observed hours after
            which the observed hour-of-day means replace the learned profile.
        training: what it was fitted on (scenario names, days, seed).
    """

    series: tuple[str, ...]
    shape: np.ndarray
    level_hours: int = LEVEL_HOURS
    blend_hours: int = BLEND_HOURS
    training: dict = field(default_factory=dict)

    def __post_init__(self):
        shape = np.asarray(self.shape, dtype=float)
        if shape.shape != (12, 24, len(self.series)) or not np.isfinite(shape).all():
            raise InputError(f"a profile tail's shape must be finite [12, 24, {len(self.series)}], got {shape.shape}")
        for name in ("level_hours", "blend_hours"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise InputError(f"profile tail: {name} must be a positive integer, got {value}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "series", tuple(self.series))

    @property
    def name(self) -> str:
        return "profile-tail"

    def columns(self, scenario: Scenario) -> np.ndarray:
        """[3N + J] the profile column of each of the scenario's series (matched by name)."""
        index = {name: k for k, name in enumerate(self.series)}
        wanted = series_names(scenario)
        missing = [name for name in wanted if name not in index]
        if missing:
            raise InputError(
                f"the learned tail was fitted on other series than scenario {scenario.name!r} has: no profile for "
                f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} (fit one on this data's training part)"
            )
        return np.array([index[name] for name in wanted])

    def predict(self, scenario: Scenario, t: int, columns: np.ndarray | None = None, past: int = 0) -> np.ndarray:
        """[24, 3N + J] the predicted mean inputs of the hours after hour t, by UTC hour of day (row h: hour h).

        Only hours <= t are read, and the ``past`` observed hours before hour 0 the scenario carries
        (:mod:`eglb.envs.past`). ``columns``: :meth:`columns` of the scenario, if already known.
        Intensities and workloads are clipped at 0.
        """
        if not 0 <= t < scenario.n_hours:
            raise InputError(f"a tail is asked at hour t={t}, outside the scenario's 0..{scenario.n_hours - 1}")
        columns = self.columns(scenario) if columns is None else columns
        first = max(earliest_hour(scenario, past, "the learned tail"), t + 1 - max(self.level_hours, 24 * 7))
        observed = input_rows(scenario, first, t + 1)  # [L, S]
        hours = _hour_of_day(input_timestamps(scenario, first, t + 1))
        shape = self.shape[_month(scenario.timestamps[t : t + 1])[0]][:, columns]  # [24, S]
        recent = slice(-self.level_hours, None)
        level = (observed[recent] - shape[hours[recent]]).mean(axis=0)
        counts = np.bincount(hours, minlength=24)
        sums = np.zeros((24, observed.shape[1]))
        np.add.at(sums, hours, observed)
        seen = sums / np.maximum(counts, 1)[:, None]
        weight = min(1.0, len(observed) / self.blend_hours) * (counts > 0)
        values = weight[:, None] * seen + (1 - weight[:, None]) * (level[None, :] + shape)
        price = signal_columns(scenario)["price"]
        nonnegative = np.ones(values.shape[1], dtype=bool)
        nonnegative[price] = False
        values[:, nonnegative] = np.maximum(values[:, nonnegative], 0.0)
        return values

    def save(self, folder: str | Path) -> Path:
        """Write ``profile.npz`` and ``tail.json`` into ``folder`` (atomically, file by file)."""
        import io

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, shape=self.shape.astype(np.float32))
        atomic_write(folder / PROFILE_FILE, lambda path: path.write_bytes(buffer.getvalue()))
        atomic_write_json(
            folder / CONFIG_FILE,
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "series": list(self.series),
                "level_hours": self.level_hours,
                "blend_hours": self.blend_hours,
                "training": self.training,
            },
        )
        return folder


def fit_profile_tail(
    scenarios: Sequence[Scenario], seed: int | None = 0, level_hours: int = LEVEL_HOURS, blend_hours: int = BLEND_HOURS
) -> ProfileTail:
    """Fit the month x hour-of-day profiles on ``scenarios`` (the same series in each, e.g. years of history).

    The days of the training scenarios are resampled with replacement by ``seed`` (a bootstrap: the
    seed is the training seed; None fits on every day once). A month the data lacks takes the profile
    of all months.
    """
    if not scenarios:
        raise InputError("the learned tail needs at least one training scenario")
    names = series_names(scenarios[0])
    for scenario in scenarios[1:]:
        if series_names(scenario) != names:
            raise InputError(f"training scenario {scenario.name!r} has other series than {scenarios[0].name!r}")
    rows = np.concatenate([input_rows(s, 0, s.n_hours) for s in scenarios])
    timestamps = np.concatenate([s.timestamps for s in scenarios])
    days = timestamps.astype("datetime64[D]")
    if seed is not None:
        unique = np.unique(days)
        chosen = np.random.default_rng(seed).choice(unique, size=len(unique), replace=True)
        repeat = np.bincount(np.searchsorted(unique, chosen), minlength=len(unique))[np.searchsorted(unique, days)]
    else:
        repeat = np.ones(len(days), dtype=int)
    month, hour = _month(timestamps), _hour_of_day(timestamps)
    shape = np.zeros((12, 24, rows.shape[1]))
    overall = _profile(rows, hour, repeat)
    for m in range(12):
        selected = (month == m) & (repeat > 0)
        complete = np.bincount(hour[selected], minlength=24).min() > 0
        shape[m] = _profile(rows[selected], hour[selected], repeat[selected]) if complete else overall
    training = {"scenarios": [s.name for s in scenarios], "days": int(len(np.unique(days))), "seed": seed}
    return ProfileTail(tuple(names), shape, level_hours, blend_hours, training)


def _profile(rows: np.ndarray, hour: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """[24, S] the weighted mean of each hour of day minus the weighted mean of all hours (0 for an
    hour of day the data lacks)."""
    sums = np.zeros((24, rows.shape[1]))
    np.add.at(sums, hour, rows * weight[:, None])
    counts = np.bincount(hour, weights=weight, minlength=24)
    overall = (rows * weight[:, None]).sum(axis=0) / weight.sum()
    return np.where(counts[:, None] > 0, sums / np.maximum(counts, 1e-300)[:, None] - overall, 0.0)


def reference_tails() -> list[str]:
    """Names of the reference tails and tail groups shipped with the package (``history14``,
    ``history14/seed-0``, ...)."""
    if not REFERENCE.is_dir():
        return []
    marked = [*REFERENCE.rglob(CONFIG_FILE), *REFERENCE.rglob(GROUP_FILE)]
    return sorted(p.parent.relative_to(REFERENCE).as_posix() for p in marked)


def _resolve(folder: str | Path) -> Path:
    """The folder a ``tail_model`` value names: a path, or ``reference:NAME`` (a name the package lists)."""
    if str(folder).startswith("reference:"):
        name = str(folder)[len("reference:") :]
        if name not in reference_tails():
            raise InputError(f"no reference tail {name!r}; the package ships {', '.join(reference_tails()) or 'none'}")
        return REFERENCE / name
    return Path(folder)


def tail_contents(folder: str | Path) -> dict[str, object]:
    """Every file of a tail or tail-group folder by relative path, formatting aside (JSON parsed, the
    profile arrays as lists): two fits are the same exactly when these are equal."""
    import json

    contents: dict[str, object] = {}
    for path in sorted(Path(folder).rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".json":
            contents[name] = json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                contents[name] = {key: arrays[key].tolist() for key in arrays.files}
    return contents


def member_folder(seed: int) -> str:
    """The subfolder of a tail group holding the tail of training seed ``seed``."""
    return f"seed-{seed}"


def tail_group(folder: str | Path) -> list[tuple[int, str]] | None:
    """(seed, ``tail_model`` value) of each member when ``folder`` is a tail group (it holds
    ``tails.json``, written by ``train_tail --seeds``), else None. A group stands for its seeds as a
    run group does: results of a controller with ``tail_model=GROUP`` are one row per seed."""
    path = _resolve(folder) / GROUP_FILE
    if not path.is_file():
        return None
    document = read_json(path, "tail group")
    if not isinstance(document, dict) or document.get("format") != GROUP_FORMAT:
        raise InputError(f'file {path}: expected "format": "{GROUP_FORMAT}"')
    seeds = document.get("seeds")
    if (
        not isinstance(seeds, list)
        or not 1 <= len(seeds) <= MAX_SEEDS
        or len(set(seeds)) != len(seeds)
        or not all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < 2**31 for k in seeds)
    ):
        raise InputError(f'file {path}: "seeds" must be a list of 1..{MAX_SEEDS} distinct seeds (integers >= 0)')
    return [(seed, f"{str(folder).rstrip('/')}/{member_folder(seed)}") for seed in seeds]


def save_tail_group(tails: Sequence[ProfileTail], seeds: Sequence[int], folder: str | Path) -> Path:
    """Write each tail into ``folder/seed-K`` and then ``tails.json`` (last: a group is complete once it names its seeds)."""
    folder = Path(folder)
    for tail, seed in zip(tails, seeds, strict=True):
        tail.save(folder / member_folder(seed))
    atomic_write_json(folder / GROUP_FILE, {"format": GROUP_FORMAT, "seeds": [int(s) for s in seeds]})
    return folder


def load_tail(folder: str | Path) -> ProfileTail:
    """The tail saved in ``folder`` by :meth:`ProfileTail.save` (format version and shapes checked), or
    a reference tail of the package named ``reference:NAME``."""
    members = tail_group(folder)
    if members is not None:
        raise InputError(
            f"{folder} is a group of {len(members)} tails (seeds {', '.join(str(k) for k, _ in members)}): "
            f"a single policy needs one of them, e.g. tail_model={members[0][1]}"
        )
    folder = _resolve(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise InputError(f"{folder} holds no learned tail: {CONFIG_FILE} not found")
    document = read_json(path, "tail configuration")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(f'file {path}: expected "format": "{FORMAT}"')
    if document.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"file {path}: format_version {document.get('format_version')!r} is not supported (this version reads {FORMAT_VERSION})"
        )
    series = document.get("series")
    if not isinstance(series, list) or not 1 <= len(series) <= MAX_SERIES or not all(isinstance(s, str) for s in series):
        raise InputError(f'file {path}: "series" must be a list of 1..{MAX_SERIES} names')
    profile = folder / PROFILE_FILE
    if not profile.is_file():
        raise InputError(f"{folder}: {PROFILE_FILE} not found")
    # Shape and values checked from the file's header before anything is allocated (no pickle).
    shape = load_arrays(profile, "a tail profile", {"shape": (12, 24, len(series))}, 12 * 24 * MAX_SERIES)["shape"]
    hours = {
        name: check_size(document.get(name, default), f"file {path}: {name}", MAX_WINDOW_HOURS)
        for name, default in (("level_hours", LEVEL_HOURS), ("blend_hours", BLEND_HOURS))
    }
    training = document.get("training")
    return ProfileTail(tuple(series), shape.astype(float), **hours, training=training if isinstance(training, dict) else {})
