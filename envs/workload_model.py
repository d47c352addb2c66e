"""A fitted model of AI serving load (daily and weekly profile, level, AR(1) noise, bursts) and its generator.

The longest real AI serving traces span weeks; scenarios span years. :func:`fit` reads the shape of a
real hourly series, :func:`generate` draws any number of hours of it for gateways in any time zone.
Pure numpy: readers of the trace files live in ``importers/``.

The model, per gateway and hour t (``k`` is the gateway's local hour of the week, Monday 00:00 = 0)::

    load[t] = scale * max(floor, baseline[k] + baseline[k] ** theta * r[t])
    baseline[k] = daily_profile[k % 24] * weekly_profile[k // 24]          (each profile has mean 1)
    r[t] = a[t]                    in ordinary hours
         = burst_threshold + Y[t]  in burst hours (each hour independently, probability burst_probability)
    a[t] = phi * a[t-1] + sqrt(1 - phi^2) * noise_std * e[t]                (stationary AR(1), e ~ N(0, 1))
    Y[t] ~ generalized Pareto(shape burst_shape >= 0, scale burst_scale)    (shape 0: exponential)

The deviation of an hour scales with its expected load to the power theta (``noise_exponent``):
theta = 1 is relative noise; the GenAI trace's busy hours vary less, relative to their load, than
its quiet ones (theta about 0.6), as counts of many independent users do. A burst is an hour whose
scaled deviation jumps above the ordinary noise, by a heavy-tailed amount; the AR(1) process runs on
underneath it. Loads are in units of the fitted series' long-run mean (``level``); :func:`generate`
turns them into MW by mapping the model's long-run peak (:func:`long_run_peak`, the PEAK_QUANTILE
quantile of one gateway's hourly load over a long reference draw) to ``peak_mw``.

Fitting (:func:`fit`), on a series x[t] >= 0 with NaN for hours without data:

1. The level trajectory L[t] is the centred one-week (168 h) moving mean of x (held constant
   within half a week of either end; the plain mean for traces shorter than two weeks). A trace of
   weeks cannot tell growth from a season or a slow cycle, so the level is held constant when
   generating; the growth it had is reported (``weekly_growth``), not generated. Variation slower
   than a week is thereby left out of the noise too.
2. y = x / L. Alternately, three times: the daily profile is the mean of y / weekly by local hour,
   the weekly profile the sum of y over the sum of the daily profile by local weekday (so that
   near-empty hours weigh little), both normalised to mean 1, over ordinary hours; theta is the
   slope of log(standard deviation of y - baseline) on log(baseline) over NOISE_BINS bins of hours
   by baseline (1 where baselines span less than MIN_BASELINE_SPAN); r = (y - baseline) /
   baseline**theta; a burst hour is one with r above ``burst_threshold`` = BURST_THRESHOLD robust
   standard deviations (1.4826 x the median absolute deviation) of r.
3. noise_std and phi are the standard deviation and lag-one autocorrelation of r over ordinary
   hours (pairs of consecutive ordinary hours for phi). Hours whose baseline is below QUIET_BASELINE
   (a near-empty night hour of a service with a strong daily cycle) take no part in steps 2-4.
4. A profile read from a few weeks carries sampling noise, which repeated over a year would become
   a fake cycle: each profile keeps the share 1 - (mean sampling variance) / (mean squared deviation
   from flat) of its deviation (James-Stein shrinkage toward flat; ``daily_kept``,
   ``weekly_kept``), with sampling variances from noise_std, theta and phi; r, the bursts and the
   noise figures are then read once more against the kept profiles.
5. burst_probability is the share of burst hours less the share that Gaussian noise of noise_std
   would put above the threshold anyway, (f - q) / (1 - q); the excesses r - threshold of the burst
   hours give the generalized Pareto shape and scale by probability-weighted moments (Hosking and
   Wallis, Technometrics 1987), the shape clipped to [0, MAX_BURST_SHAPE] (an exponential tail below
   MIN_BURSTS_FOR_SHAPE bursts, where a shape cannot be estimated).
6. floor is the smallest y seen (a server's idle power keeps a power trace above zero).

A fit needs two days of data; the weekly profile needs two weeks (and a known weekday: pass
``weekly=False`` for a trace on a relative clock). ``components`` lists the parts the data
identified (a profile the shrinkage flattens entirely is not listed).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

import numpy as np
from eglb.envs.errors import InputError

HOURS_PER_WEEK = 168
#: Window of the level trajectory (h): one week, so that daily and weekly cycles average out.
LEVEL_WINDOW = HOURS_PER_WEEK
#: A burst hour's deviation r exceeds this many robust standard deviations of r.
BURST_THRESHOLD = 3.5
#: Hours whose expected load is below this fraction of the level are left out of noise and bursts.
QUIET_BASELINE = 0.1
#: Below this many bursts the burst excess is taken as exponential (shape 0).
MIN_BURSTS_FOR_SHAPE = 10
#: Largest generalized Pareto shape used (the tail's mean stays finite below 1).
MAX_BURST_SHAPE = 0.5
#: The long-run peak is this quantile of one gateway's hourly load (about 9 hours a year lie above it).
PEAK_QUANTILE = 0.999
#: The long-run peak is measured on this many reference years of 52 weeks, drawn with this seed.
REFERENCE_YEARS = 20
REFERENCE_SEED = 20240101
#: The noise exponent is read from this many baseline bins, where baselines span at least this factor.
NOISE_BINS = 4
MIN_BASELINE_SPAN = 2.0
#: Fewest hours with data a fit takes (two days: the daily profile), and the fewest for a weekly profile.
MIN_HOURS = 48
MIN_WEEKLY_HOURS = 2 * HOURS_PER_WEEK
#: 1970-01-01 was a Thursday: day 0 is weekday 3 when Monday is 0.
_EPOCH_WEEKDAY = 3


@dataclass(frozen=True)
class WorkloadModel:
    """A fitted workload model (see the module docstring for the equations).

    Attributes:
        source: what it was fitted to, e.g. "bloom power".
        unit: unit of the fitted series, e.g. "W" or "requests per hour".
        level: mean of the fitted series over its hours with data, in ``unit``.
        utc_offset_hours: the offset of the local clock the profiles were read in.
        hours: number of hours with data that were fitted.
        components: the parts identified from the data ("daily", "weekly", "noise", "bursts").
        daily_profile: [24] mean load by local hour (hour 0 = 00:00-01:00), mean 1.
        weekly_profile: [7] mean load by local weekday (0 = Monday), mean 1.
        daily_kept, weekly_kept: share of the raw profile's deviation from flat kept after removing
            what its sampling noise explains (0 = flat, not identified; 1 = all kept).
        noise_std: stationary standard deviation of the AR(1) deviation r.
        noise_autocorrelation: its lag-one autocorrelation phi (0 <= phi < 1).
        noise_exponent: theta: a deviation r moves the load by baseline**theta * r (1 = relative noise).
        burst_probability: probability that an hour is a burst hour.
        burst_threshold: deviation r at which a burst starts.
        burst_scale: generalized Pareto scale of a burst's excess of r over the threshold.
        burst_shape: generalized Pareto shape (0 = exponential; larger = heavier tail).
        floor: lowest load, as a fraction of the level.
        weekly_growth: growth of the level trajectory per week over the trace (reported, not generated).
    """

    source: str
    unit: str
    level: float
    utc_offset_hours: float
    hours: int
    components: tuple[str, ...]
    daily_profile: tuple[float, ...]
    weekly_profile: tuple[float, ...]
    daily_kept: float
    weekly_kept: float
    noise_std: float
    noise_autocorrelation: float
    noise_exponent: float
    burst_probability: float
    burst_threshold: float
    burst_scale: float
    burst_shape: float
    floor: float
    weekly_growth: float

    def __post_init__(self):
        def bad(name, expected, value):
            raise InputError(f"workload model {self.source!r}, field {name!r}: expected {expected}, got {value!r}")

        for name, length in (("daily_profile", 24), ("weekly_profile", 7)):
            profile = np.asarray(getattr(self, name), dtype=float)
            if profile.shape != (length,) or not np.all(np.isfinite(profile)) or profile.min() < 0 or profile.max() <= 0:
                bad(name, f"{length} finite non-negative numbers, not all zero", getattr(self, name))
            object.__setattr__(self, name, tuple(float(v) for v in profile))
        for name, low, high in (
            ("level", 0.0, math.inf),
            ("daily_kept", 0.0, 1.0),
            ("weekly_kept", 0.0, 1.0),
            ("noise_std", 0.0, math.inf),
            ("noise_autocorrelation", 0.0, 1.0 - 1e-9),
            ("noise_exponent", 0.0, 1.0),
            ("burst_probability", 0.0, 1.0),
            ("burst_threshold", 0.0, math.inf),
            ("burst_scale", 0.0, math.inf),
            ("burst_shape", 0.0, MAX_BURST_SHAPE),
            ("floor", 0.0, math.inf),
            ("weekly_growth", 0.0, math.inf),
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not low <= value <= high:
                bad(name, f"a number in [{low}, {high}]", value)
            object.__setattr__(self, name, float(value))
        if isinstance(self.hours, bool) or not isinstance(self.hours, (int, np.integer)) or self.hours < 0:
            bad("hours", "an integer >= 0", self.hours)
        object.__setattr__(self, "hours", int(self.hours))
        if not isinstance(self.utc_offset_hours, (int, float)) or not -12 <= self.utc_offset_hours <= 14:
            bad("utc_offset_hours", "a number of hours in [-12, 14]", self.utc_offset_hours)
        if isinstance(self.components, str) or not set(self.components) <= {"daily", "weekly", "noise", "bursts"}:
            bad("components", 'names among "daily", "weekly", "noise", "bursts"', self.components)
        object.__setattr__(self, "components", tuple(self.components))

    def baseline(self) -> np.ndarray:
        """[168] expected load by local hour of the week (Monday 00:00 first), in units of the level."""
        return np.asarray(self.weekly_profile).repeat(24) * np.tile(self.daily_profile, 7)

    def to_json(self) -> dict:
        """A JSON-ready dict; :meth:`from_json` gives the same model back."""
        data = asdict(self)
        data["components"] = list(self.components)
        data["daily_profile"] = list(self.daily_profile)
        data["weekly_profile"] = list(self.weekly_profile)
        return data

    @classmethod
    def from_json(cls, data: dict, where: str = "workload model") -> WorkloadModel:
        """The model of a dict written by :meth:`to_json`; InputError naming ``where`` on a missing or extra key."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(data).__name__}")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in data]
        extra = sorted(set(data) - set(names))
        if missing or extra:
            raise InputError(f"{where}: missing keys {missing}, unknown keys {extra}")
        values = dict(data)
        values["components"] = tuple(values["components"])
        values["daily_profile"] = tuple(values["daily_profile"])
        values["weekly_profile"] = tuple(values["weekly_profile"])
        return cls(**values)


def _check_hours(timestamps: np.ndarray, name: str) -> np.ndarray:
    """Hour starts as int64 hours since 1970, consecutive; InputError otherwise."""
    stamps = np.asarray(timestamps)
    if stamps.ndim != 1 or stamps.size == 0 or not np.issubdtype(stamps.dtype, np.datetime64):
        raise InputError(f"argument {name!r}: expected a non-empty 1-D array of datetime64 hour starts")
    seconds = stamps.astype("datetime64[s]").astype(np.int64)
    off_hour = np.flatnonzero(seconds % 3600)
    if off_hour.size:
        raise InputError(f"argument {name!r}, element {off_hour[0]}: {stamps[off_hour[0]]} is not an hour start")
    hours = seconds // 3600
    gaps = np.flatnonzero(np.diff(hours) != 1)
    if gaps.size:
        k = int(gaps[0])
        raise InputError(f"argument {name!r}, element {k + 1}: expected consecutive hours, got {stamps[k]} then {stamps[k + 1]}")
    return hours


def _check_offset(offset, name: str) -> float:
    if not isinstance(offset, (int, float, np.integer, np.floating)) or not -12 <= float(offset) <= 14:
        raise InputError(f"argument {name!r}: expected a UTC offset in hours in [-12, 14], got {offset!r}")
    return float(offset)


def local_hour_of_week(utc_hours: np.ndarray, utc_offset_hours: float) -> np.ndarray:
    """Local hour of the week (0 = Monday 00:00) of UTC hour starts given as hours since 1970, as floats.

    A fractional offset (India's +5.5) gives fractional hours: the UTC hour then covers parts of two local hours.
    """
    return np.mod(utc_hours + _EPOCH_WEEKDAY * 24 + utc_offset_hours, HOURS_PER_WEEK)


def _level_trajectory(x: np.ndarray) -> np.ndarray:
    """Centred one-week moving mean of x [T] (NaN = no data), held at the ends (see module docstring)."""
    valid = np.isfinite(x)
    if x.size < 2 * LEVEL_WINDOW:
        return np.full(x.size, np.nanmean(x))
    filled = np.where(valid, x, 0.0)
    sums = np.concatenate([[0.0], np.cumsum(filled)])
    counts = np.concatenate([[0], np.cumsum(valid)])
    half = LEVEL_WINDOW // 2
    centre = np.arange(half, x.size - half)
    window_sum = sums[centre + half] - sums[centre - half]
    window_count = counts[centre + half] - counts[centre - half]
    means = np.where(window_count >= half, window_sum / np.maximum(window_count, 1), np.nan)
    # Windows with too few hours borrow from the nearest complete one.
    good = np.flatnonzero(np.isfinite(means))
    if good.size == 0:
        return np.full(x.size, np.nanmean(x))
    means = means[good[np.clip(np.searchsorted(good, np.arange(means.size)), 0, good.size - 1)]]
    return np.concatenate([np.full(half, means[0]), means, np.full(x.size - half - means.size, means[-1])])


def _profile(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per group 0..n_groups-1 normalised to mean 1 (groups without values count as 1)."""
    sums = np.bincount(groups, weights=values, minlength=n_groups)
    counts = np.bincount(groups, minlength=n_groups)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    means = means / np.nanmean(means)
    return np.where(np.isfinite(means), means, 1.0)


def _robust_std(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _gaussian_tail(threshold: float, std: float) -> float:
    """P(N(0, std^2) > threshold)."""
    return 0.0 if std <= 0 else 0.5 * math.erfc(threshold / (std * math.sqrt(2.0)))


def generalized_pareto_pwm(excess: np.ndarray) -> tuple[float, float]:
    """(shape, scale) of a generalized Pareto law by probability-weighted moments (Hosking and Wallis 1987).

    With a0 = mean(x) and a1 = mean((1 - p_i) x_(i)), p_i = (i - 0.35) / n over the sorted sample,
    shape = 2 - a0 / (a0 - 2 a1) and scale = 2 a0 a1 / (a0 - 2 a1) (shape 0 is the exponential law).
    """
    x = np.sort(np.asarray(excess, dtype=float))
    n = x.size
    a0 = x.mean()
    a1 = np.mean((1.0 - (np.arange(1, n + 1) - 0.35) / n) * x)
    denominator = a0 - 2.0 * a1
    if denominator <= 0:
        return MAX_BURST_SHAPE, a0 * (1.0 - MAX_BURST_SHAPE)
    return 2.0 - a0 / denominator, 2.0 * a0 * a1 / denominator


def _residuals(y: np.ndarray, valid: np.ndarray, baseline: np.ndarray, exponent: float):
    """Scaled deviations r [T] (NaN outside eligible hours), eligible hours, burst threshold, burst hours."""
    eligible = valid & (baseline >= QUIET_BASELINE)
    r = np.where(eligible, (y - baseline) / np.maximum(baseline, 1e-12) ** exponent, np.nan)
    threshold = BURST_THRESHOLD * _robust_std(r[eligible]) if eligible.any() else 0.0
    return r, eligible, threshold, eligible & (r > threshold)


def _noise_exponent(y: np.ndarray, baseline: np.ndarray, calm: np.ndarray) -> float:
    """The exponent theta with which the spread of y - baseline grows with the baseline.

    Calm hours are split into NOISE_BINS bins of equal size by baseline; theta is the least-squares
    slope of log(std of y - baseline) on log(mean baseline) over the bins, clipped to [0, 1]; 1
    (relative noise) where the baselines span less than a factor MIN_BASELINE_SPAN.
    """
    if calm.sum() < 4 * NOISE_BINS:
        return 1.0
    order = np.argsort(baseline[calm])
    bins = np.array_split(order, NOISE_BINS)
    base = np.array([baseline[calm][b].mean() for b in bins])
    spread = np.array([(y[calm] - baseline[calm])[b].std() for b in bins])
    if base.max() / base.min() < MIN_BASELINE_SPAN or np.any(spread <= 0):
        return 1.0
    return float(np.clip(np.polyfit(np.log(base), np.log(spread), 1)[0], 0.0, 1.0))


def _noise(r: np.ndarray, calm: np.ndarray) -> tuple[float, float]:
    """Standard deviation and lag-one autocorrelation (pairs of consecutive calm hours) of r."""
    deviations = r[calm]
    std = float(deviations.std()) if deviations.size > 1 else 0.0
    pairs = calm[1:] & calm[:-1]
    if pairs.sum() <= 2 or std <= 0:
        return std, 0.0
    centred = r - deviations.mean()
    phi = np.sum(centred[1:][pairs] * centred[:-1][pairs]) / (pairs.sum() * std**2)
    return std, float(np.clip(phi, 0.0, 0.99))


def _kept_share(profile: np.ndarray, sampling_variance: np.ndarray) -> float:
    """Share of a profile's deviation from flat that its sampling noise does not explain (James-Stein)."""
    spread = float(np.mean((profile - 1.0) ** 2))
    return 0.0 if spread <= 0 else float(np.clip(1.0 - np.mean(sampling_variance) / spread, 0.0, 1.0))


def fit(series, timestamps, utc_offset_hours: float, *, weekly: bool = True, source: str = "", unit: str = "") -> WorkloadModel:
    """Fit the workload model to an hourly series (see the module docstring for the steps).

    Args:
        series: [T] values >= 0 in any unit (requests, GPU-seconds or watts per hour); NaN marks an
            hour without data.
        timestamps: [T] consecutive UTC hour starts (datetime64).
        utc_offset_hours: offset of the local clock in which the profiles are read (local = UTC + offset;
            a fractional offset is read at the local hour the UTC hour starts in).
        weekly: fit the weekly profile (False for a trace whose weekday is unknown).
        source, unit: labels stored in the model.
    """
    x = np.asarray(series, dtype=float)
    hours = _check_hours(timestamps, "timestamps")
    offset = _check_offset(utc_offset_hours, "utc_offset_hours")
    if x.shape != hours.shape:
        raise InputError(f"argument 'series': expected {hours.size} values (one per timestamp), got shape {x.shape}")
    valid = np.isfinite(x)
    bad = np.isinf(x) | (valid & (x < 0))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(f"argument 'series', element {row}: expected a value >= 0 or NaN, got {x[row]}")
    if valid.sum() < MIN_HOURS or not np.nanmean(x) > 0:
        raise InputError(f"argument 'series': expected at least {MIN_HOURS} hours with data and a positive mean")

    level_path = _level_trajectory(x)
    y = x / level_path
    hour_of_week = np.floor(local_hour_of_week(hours, offset)).astype(int)
    hour_of_day, weekday = hour_of_week % 24, hour_of_week // 24
    fit_weekly = bool(weekly and valid.sum() >= MIN_WEEKLY_HOURS and np.unique(weekday[valid]).size == 7)

    # Profiles, noise scaling and burst hours depend on each other: alternate until they settle.
    ordinary = valid.copy()
    weekly_profile = np.ones(7)
    for _ in range(3):
        daily = _profile(y[ordinary] / weekly_profile[weekday[ordinary]], hour_of_day[ordinary], 24)
        if fit_weekly:
            # A ratio of sums: the weekday's load over its expected load, which near-empty hours cannot swamp.
            load = np.bincount(weekday[ordinary], weights=y[ordinary], minlength=7)
            expected = np.bincount(weekday[ordinary], weights=daily[hour_of_day[ordinary]], minlength=7)
            weekly_profile = load / np.maximum(expected, 1e-12)
            weekly_profile = weekly_profile / weekly_profile.mean()
        baseline = daily[hour_of_day] * weekly_profile[weekday]
        exponent = _noise_exponent(y, baseline, ordinary & (baseline >= QUIET_BASELINE))
        r, eligible, threshold, burst = _residuals(y, valid, baseline, exponent)
        ordinary = valid & ~burst
    noise_std, phi = _noise(r, eligible & ~burst)

    # A profile read from a few weeks carries sampling noise; repeated over a year it would become a
    # fake cycle. Keep the share of each profile's deviation that the noise does not explain. Hours
    # of the day are a day apart (independent for any phi < 0.9); a weekday's figure sums 24
    # correlated hours, whose variance the AR(1) factor (1 + phi) / (1 - phi) inflates.
    spread = (baseline**exponent * noise_std) ** 2  # variance of each hour's y
    weighted = spread / weekly_profile[weekday] ** 2
    per_hour = np.bincount(hour_of_day[ordinary], minlength=24)
    variance = np.bincount(hour_of_day[ordinary], weights=weighted[ordinary], minlength=24) / np.maximum(per_hour, 1) ** 2
    daily_kept = _kept_share(daily, variance)
    daily = 1.0 + daily_kept * (daily - 1.0)
    weekly_kept = 0.0
    if fit_weekly:
        inflation = (1.0 + phi) / (1.0 - phi)
        expected = np.bincount(weekday[ordinary], weights=daily[hour_of_day[ordinary]], minlength=7)
        summed_spread = np.bincount(weekday[ordinary], weights=spread[ordinary], minlength=7)
        variance = inflation * summed_spread / np.maximum(expected, 1e-12) ** 2
        weekly_kept = _kept_share(weekly_profile, variance)
        weekly_profile = 1.0 + weekly_kept * (weekly_profile - 1.0)
    r, eligible, threshold, burst = _residuals(y, valid, daily[hour_of_day] * weekly_profile[weekday], exponent)
    noise_std, phi = _noise(r, eligible & ~burst)

    share = burst.sum() / max(eligible.sum(), 1)
    false_alarm = _gaussian_tail(threshold, noise_std)
    probability = float(max(0.0, (share - false_alarm) / (1.0 - false_alarm)))
    excess = r[burst] - threshold
    shape, scale = 0.0, 0.0
    if probability > 0 and excess.size >= MIN_BURSTS_FOR_SHAPE:
        shape, scale = generalized_pareto_pwm(excess)
        if not 0.0 <= shape <= MAX_BURST_SHAPE:
            shape = float(np.clip(shape, 0.0, MAX_BURST_SHAPE))
            scale = float(excess.mean() * (1.0 - shape))  # keeps the mean excess, scale / (1 - shape)
    elif probability > 0:
        scale = float(excess.mean())

    observed = np.flatnonzero(valid)
    weeks = (observed[-1] - observed[0]) / HOURS_PER_WEEK
    growth = float((level_path[observed[-1]] / level_path[observed[0]]) ** (1.0 / weeks)) if x.size >= 2 * LEVEL_WINDOW else 1.0
    identified = {
        "daily": daily_kept > 0,
        "weekly": weekly_kept > 0,
        "noise": noise_std > 0,
        "bursts": probability > 0,
    }
    return WorkloadModel(
        source=source,
        unit=unit,
        level=float(np.nanmean(x)),
        utc_offset_hours=offset,
        hours=int(valid.sum()),
        components=tuple(name for name, yes in identified.items() if yes),
        daily_profile=tuple(daily),
        weekly_profile=tuple(weekly_profile),
        daily_kept=daily_kept,
        weekly_kept=weekly_kept,
        noise_std=noise_std,
        noise_autocorrelation=phi,
        noise_exponent=exponent,
        burst_probability=probability,
        burst_threshold=float(threshold) if probability > 0 else 0.0,
        burst_scale=float(scale),
        burst_shape=float(shape),
        floor=float(max(0.0, np.nanmin(y))),
        weekly_growth=growth,
    )


def _ar1(innovation: np.ndarray, phi: float, block: int = 64) -> np.ndarray:
    """a[:, t] = phi * a[:, t-1] + innovation[:, t] (a[:, -1] = 0) for innovation [K, T].

    Blocks of ``block`` hours: inside a block the response to its innovations is one matrix product
    with the [block, block] matrix phi**(k - i) (i <= k); only the state carried between blocks is a
    Python loop, T / block steps instead of T.
    """
    n_series, hours = innovation.shape
    n_blocks = -(-hours // block)
    padded = np.zeros((n_series, n_blocks * block))
    padded[:, :hours] = innovation
    lag = np.arange(block)[:, None] - np.arange(block)[None, :]
    response = np.where(lag >= 0, phi ** np.maximum(lag, 0), 0.0)  # [k, i]
    within = padded.reshape(n_series, n_blocks, block) @ response.T
    carry = phi ** np.arange(1, block + 1)
    state = np.zeros(n_series)
    for b in range(n_blocks):
        within[:, b, :] += state[:, None] * carry
        state = within[:, b, -1]
    return within.reshape(n_series, -1)[:, :hours]


def _relative_deviations(model: WorkloadModel, n_series: int, hours: int, rng: np.random.Generator) -> np.ndarray:
    """[n_series, hours] draws of r (AR(1) noise, replaced by bursts in burst hours)."""
    shocks = rng.standard_normal((n_series, hours))
    burst_draw = rng.random((n_series, hours))
    excess_draw = rng.random((n_series, hours))
    phi, std = model.noise_autocorrelation, model.noise_std
    innovation = std * math.sqrt(1.0 - phi**2) * shocks
    innovation[:, 0] = std * shocks[:, 0]  # the stationary start
    deviations = _ar1(innovation, phi)
    burst = burst_draw < model.burst_probability
    if model.burst_shape > 0:
        excess = model.burst_scale / model.burst_shape * ((1.0 - excess_draw) ** -model.burst_shape - 1.0)
    else:
        excess = -model.burst_scale * np.log1p(-excess_draw)
    return np.where(burst, model.burst_threshold + excess, deviations)


def _relative_load(model: WorkloadModel, hour_of_week: np.ndarray, deviations: np.ndarray) -> np.ndarray:
    """Load in units of the level at (fractional) local hours of the week [..., T]: baseline + baseline**theta * r."""
    week = model.baseline()
    whole = np.floor(hour_of_week).astype(int)
    part = hour_of_week - whole
    baseline = (1.0 - part) * week[whole % HOURS_PER_WEEK] + part * week[(whole + 1) % HOURS_PER_WEEK]
    return np.maximum(model.floor, baseline + baseline**model.noise_exponent * deviations)


@lru_cache(maxsize=64)
def long_run_peak(model: WorkloadModel) -> float:
    """The PEAK_QUANTILE quantile of one gateway's hourly load, in units of the level.

    Measured on REFERENCE_YEARS years of 52 whole weeks each (every local hour of the week equally
    often), drawn with REFERENCE_SEED: a property of the model, the same for every caller.
    """
    hours = 52 * HOURS_PER_WEEK
    deviations = _relative_deviations(model, REFERENCE_YEARS, hours, np.random.default_rng(REFERENCE_SEED))
    load = _relative_load(model, np.arange(hours, dtype=float)[None, :], deviations)
    return float(np.quantile(load, PEAK_QUANTILE))


def generate(model: WorkloadModel, timestamps, utc_offsets, rng: np.random.Generator, peak_mw: float = 1.0) -> np.ndarray:
    """Draw gateway loads [J, T] in MW from the model, each gateway in its own local time.

    Args:
        model: a fitted :class:`WorkloadModel`.
        timestamps: [T] consecutive UTC hour starts (datetime64).
        utc_offsets: [J] UTC offset in hours of each gateway's local time (fractions allowed), or [J, T]
            offsets per hour (to follow daylight saving time).
        rng: the random generator; the same generator state gives the same arrays.
        peak_mw: MW that the model's long-run peak (:func:`long_run_peak`) maps to: every gateway's
            load lies at or below it in a share PEAK_QUANTILE of hours over a long run.

    Gateways draw independent noise and bursts; their profiles follow their local clocks.
    """
    hours = _check_hours(timestamps, "timestamps")
    try:
        offsets = np.asarray(utc_offsets, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"argument 'utc_offsets': expected numbers of hours, got {utc_offsets!r}") from None
    if offsets.ndim == 1:
        offsets = offsets[:, None]
    if offsets.ndim != 2 or offsets.shape[0] == 0 or offsets.shape[1] not in (1, hours.size):
        raise InputError(f"argument 'utc_offsets': expected shape [J] or [J, {hours.size}] with J >= 1, got {offsets.shape}")
    bad = ~(np.isfinite(offsets) & (offsets >= -12) & (offsets <= 14))
    if bad.any():
        where = tuple(int(k) for k in np.unravel_index(int(np.argmax(bad)), bad.shape))
        raise InputError(
            f"argument 'utc_offsets', gateway {where[0]}: expected a UTC offset in hours in [-12, 14], got {offsets[where]}"
        )
    if not (isinstance(peak_mw, (int, float, np.integer, np.floating)) and np.isfinite(peak_mw) and peak_mw > 0):
        raise InputError(f"argument 'peak_mw': expected a positive number of MW, got {peak_mw!r}")
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"argument 'rng': expected a numpy.random.Generator, got {type(rng).__name__}")
    deviations = _relative_deviations(model, offsets.shape[0], hours.size, rng)
    local = local_hour_of_week(hours[None, :], offsets)
    return _relative_load(model, local, deviations) * (float(peak_mw) / long_run_peak(model))


def _autocorrelation(y: np.ndarray, lag: int) -> np.ndarray:
    """Lag-``lag`` autocorrelation of each row of y [K, T] over pairs of hours with data."""
    centred = y - np.nanmean(y, axis=1, keepdims=True)
    products = centred[:, lag:] * centred[:, :-lag]
    return np.nanmean(products, axis=1) / np.nanmean(centred**2, axis=1)


def _shape_statistics(y: np.ndarray, model: WorkloadModel, hour_of_week: np.ndarray) -> dict[str, np.ndarray]:
    """Figures of relative loads y [K, T] (NaN = no data) at local hours of the week [T]."""
    mean = np.nanmean(y, axis=1)
    hour = np.floor(hour_of_week).astype(int)
    by_hour = np.stack([np.nanmean(y[:, hour % 24 == h], axis=1) for h in range(24)], axis=1)  # [K, 24]
    baseline = model.baseline()[hour % HOURS_PER_WEEK]
    eligible = np.isfinite(y) & (baseline >= QUIET_BASELINE)
    exceed = eligible & ((y - baseline) / np.maximum(baseline, 1e-12) ** model.noise_exponent > model.burst_threshold)
    figures = {
        "std / mean": np.nanstd(y, axis=1) / mean,
        "lag-1 autocorrelation": _autocorrelation(y, 1),
        "lag-24 autocorrelation": _autocorrelation(y, 24),
        "peak / mean": np.nanmax(y, axis=1) / mean,
        "share below 5% of level": np.sum(y < 0.05, axis=1) / np.sum(np.isfinite(y), axis=1),
    }
    if np.std(model.daily_profile) > 0:
        profile = np.asarray(model.daily_profile) - np.mean(model.daily_profile)
        centred = by_hour - by_hour.mean(axis=1, keepdims=True)
        figures["daily profile corr."] = centred @ profile / np.sqrt(np.sum(centred**2, axis=1) * np.sum(profile**2))
    if model.burst_threshold > 0:
        figures["burst share"] = exceed.sum(axis=1) / eligible.sum(axis=1)
    return figures


def validation_statistics(model: WorkloadModel, series, timestamps, draws: int = 200, seed: int = 0) -> dict:
    """How a real series compares with ``draws`` generated traces of the same hours.

    Every series, the real one [T] (NaN = no data) and the generated ones (the same hours, the model's
    own local clock, the real series' missing hours left out), is divided by its level trajectory as
    :func:`fit` does. Returns statistic -> (real, generated median, 5 % and 95 % quantiles): std /
    mean, lag-1 and lag-24 autocorrelation, peak / mean, share of hours below 5 % of the level, the
    correlation of the hour-of-day means with the model's daily profile and the share of burst hours
    (hours above the model's burst threshold), the last two where the model has them.
    """
    x = np.asarray(series, dtype=float)
    hours = _check_hours(timestamps, "timestamps")
    if x.shape != hours.shape:
        raise InputError(f"argument 'series': expected {hours.size} values (one per timestamp), got shape {x.shape}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise InputError(f"argument 'draws': expected a positive integer, got {draws!r}")
    real = (x / _level_trajectory(x))[None, :]
    local = local_hour_of_week(hours, model.utc_offset_hours)
    generated = _relative_load(model, local[None, :], _relative_deviations(model, draws, hours.size, np.random.default_rng(seed)))
    generated[:, ~np.isfinite(x)] = np.nan
    generated = np.stack([draw / _level_trajectory(draw) for draw in generated])  # read as the real series is
    real_figures = _shape_statistics(real, model, local)
    generated_figures = _shape_statistics(generated, model, local)
    return {
        name: (float(real_figures[name][0]), *(float(v) for v in np.quantile(generated_figures[name], [0.5, 0.05, 0.95])))
        for name in real_figures
    }
