"""What a policy sees each hour: the observation vector of the eGLB environment.

Layout of the float32 vector (N regions, J gateways, H forecast hours), in order:

=====================  ==========  ======================================================
part                   length      meaning (all divided by the scales of ObservationScale)
=====================  ==========  ======================================================
price                  N           this hour's price
carbon                 N           this hour's carbon intensity
water                  N           this hour's water intensity
workload               J           this hour's gateway loads
capacity               N           this hour's region capacities
time                   3           sin and cos of the hour of day (UTC), fraction of the episode left
forecast               H*(3N+J)    the next H hours of price, carbon, water, workload (hour-major),
                                   as predicted by the builder's forecaster (default: the truth,
                                   optionally with multiplicative noise growing with lead time)
water footprint        N           each region's cumulative weighted water footprint mu_w * W_i
carbon footprint       N           each region's cumulative weighted carbon footprint mu_c * C_i
water gap              N           max_k mu_w W_k - mu_w W_i (distance to the current worst region)
carbon gap             N           the same for carbon
=====================  ==========  ======================================================

Footprints are divided by the footprint one region would collect over the whole episode at mean
intensity and mean load, so they run from 0 to about 1 whatever the episode length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, NoisyTruthForecaster, require_finite_forecast
from eglb.envs.scenario import Scenario

#: How far (a factor) a policy's observation scale of an input may be from the scenario's own mean
#: magnitude of it (:meth:`ObservationScale.check_units`).
SCALE_TOLERANCE = 10.0
#: The inputs whose units the check compares (the footprint scales follow from them and the weights).
UNIT_SIGNALS = ("price", "carbon", "water", "workload", "capacity")


@dataclass(frozen=True)
class ObservationScale:
    """Divisors that bring observations near unit scale; fixed per trained policy.

    Attributes:
        price: USD/MWh. carbon: t/MWh. water: m^3/MWh. workload: MW (per gateway). capacity: MW.
        footprint_water: weighted water footprint of one region in one hour, USD (mu_w * m^3).
        footprint_carbon: weighted carbon footprint of one region in one hour, USD (mu_c * t).
    """

    price: float
    carbon: float
    water: float
    workload: float
    capacity: float
    footprint_water: float
    footprint_carbon: float

    def __post_init__(self):
        for name, value in asdict(self).items():  # a divisor of 0, NaN or < 0 would corrupt every observation
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
                raise InputError(f"observation scale {name} must be a finite number > 0, got {value!r}")

    @staticmethod
    def magnitudes(scenario: Scenario) -> dict[str, float]:
        """The scenario's mean magnitudes the scales are measured from (0 where a signal is all zero)."""
        load_per_region = float(scenario.total_workload.mean()) / scenario.n_regions
        return {
            "price": float(np.mean(np.abs(scenario.price))),
            "carbon": float(scenario.carbon.mean()),
            "water": float(scenario.water.mean()),
            "workload": float(scenario.workload.mean()),
            "capacity": float(scenario.capacity.mean()),
            "footprint_water": scenario.mu_water * float(scenario.water.mean()) * load_per_region,
            "footprint_carbon": scenario.mu_carbon * float(scenario.carbon.mean()) * load_per_region,
        }

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ObservationScale:
        """Scales measured on a reference scenario (its mean magnitudes; 1 for a signal that is all zero)."""
        return cls(**{name: value if value > 0 else 1.0 for name, value in cls.magnitudes(scenario).items()})

    @classmethod
    def from_dict(cls, values: dict) -> ObservationScale:
        if not isinstance(values, dict):
            raise InputError(f"observation scale must be a mapping, got {values!r}")
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"observation scale {name} must be a finite number > 0, got {value!r}")
        try:
            return cls(**{k: float(v) for k, v in values.items()})
        except (TypeError, OverflowError) as exc:
            raise InputError(f"observation scale: {exc}") from None

    def check_units(self, scenario: Scenario, owner: str) -> None:
        """Refuse a scenario whose inputs are not in the units these scales were measured in.

        Each input signal's scale (price, carbon, water, workload, capacity) must be within a factor
        SCALE_TOLERANCE of the scenario's own mean magnitude. Every shift of envs/shifts.py at severity
        5 and the published data set under a synthetic-trained scale stay within 2.2 (tested); a unit
        mistaken by 100 (cents for USD) or 1000 (kg for t, kW for MW) does not. A signal that is all zero in
        the scenario is not compared.
        """
        found = self.magnitudes(scenario)
        for name in UNIT_SIGNALS:
            own, value = getattr(self, name), found[name]
            if value > 0 and not 1 / SCALE_TOLERANCE <= value / own <= SCALE_TOLERANCE:
                raise InputError(
                    f"{owner} observes {name} in units of mean magnitude {own:.4g}, but scenario {scenario.name!r} has a "
                    f"mean {name} of {value:.4g}, {max(value / own, own / value):.3g} times apart (at most "
                    f"{SCALE_TOLERANCE:g} is accepted): a unit mistake (cents for USD, kg for t, kW for MW)?"
                )

    def to_dict(self) -> dict:
        return asdict(self)


class ObservationBuilder:
    """Builds observations for episodes of one scenario window; the per-hour part is precomputed.

    Args:
        n_regions, n_gateways: sizes fixing the vector length.
        scale: divisors (see :class:`ObservationScale`).
        forecast_hours: how many future hours of inputs to include (0: none).
        forecast_noise: standard deviation of the multiplicative forecast error one hour ahead; the
            error of a forecast k hours ahead has standard deviation ``forecast_noise * sqrt(k)``
            (the default forecaster, :class:`eglb.envs.forecast.NoisyTruthForecaster`).
        forecaster: any :class:`eglb.envs.forecast.Forecaster` (persistence, seasonal-naive, learned, ...)
            instead of the noisy truth; then ``forecast_noise`` must stay 0. The forecast made at hour
            t covers hours t+1 .. t+H, as the environment has always shown it.
    """

    def __init__(
        self,
        n_regions: int,
        n_gateways: int,
        scale: ObservationScale,
        forecast_hours: int = 0,
        forecast_noise: float = 0.0,
        forecaster: Forecaster | None = None,
    ):
        if int(forecast_hours) != forecast_hours or forecast_hours < 0:
            raise InputError(f"argument 'forecast_hours' must be an integer >= 0, got {forecast_hours}")
        if not np.isfinite(forecast_noise) or forecast_noise < 0:
            raise InputError(f"argument 'forecast_noise' must be >= 0, got {forecast_noise}")
        if forecaster is not None and forecast_noise != 0:
            raise InputError("give either 'forecast_noise' (noise on the true inputs) or 'forecaster', not both")
        if forecaster is not None and not isinstance(forecaster, Forecaster):
            raise InputError(f"argument 'forecaster' must be an eglb.envs.forecast.Forecaster, got {type(forecaster).__name__}")
        self.n_regions = n_regions
        self.n_gateways = n_gateways
        self.scale = scale
        self.forecast_hours = int(forecast_hours)
        self.forecast_noise = float(forecast_noise)
        self.forecaster = forecaster if forecaster is not None else NoisyTruthForecaster(self.forecast_noise)
        per_hour = 3 * n_regions + n_gateways
        # Divisor of each forecast column: price, carbon, water (N each), workload (J).
        self._forecast_scale = np.repeat([scale.price, scale.carbon, scale.water, scale.workload], [n_regions] * 3 + [n_gateways])
        self.static_size = 4 * n_regions + n_gateways + 3 + self.forecast_hours * per_hour
        self.size = self.static_size + 4 * n_regions

    def names(self, regions: tuple[str, ...], gateways: tuple[str, ...]) -> list[str]:
        """The name of every entry of the observation vector, in order (see the module docstring)."""
        per_hour = [f"{signal}[{r}]" for signal in ("price", "carbon", "water") for r in regions]
        per_hour += [f"workload[{g}]" for g in gateways]
        names = per_hour + [f"capacity[{r}]" for r in regions] + ["hour_sin", "hour_cos", "episode_left"]
        names += [f"forecast+{k}.{name}" for k in range(1, self.forecast_hours + 1) for name in per_hour]
        names += [f"{kind}[{r}]" for kind in ("water_footprint", "carbon_footprint", "water_gap", "carbon_gap") for r in regions]
        if len(names) != self.size:  # the layout and this list must change together
            raise RuntimeError(f"observation names ({len(names)}) do not match the observation size ({self.size})")
        return names

    def episode_rows(self, scenario: Scenario, start: int, hours: int, rng: np.random.Generator) -> np.ndarray:
        """The static part of every observation of an episode: float32 [hours + 1, static_size].

        Row k describes hour ``start + k``; the extra last row repeats the final hour, for the
        observation returned with the end of the episode. Forecasts past the scenario's end repeat
        its last hour.
        """
        scale = self.scale
        stop = start + hours
        window = slice(start, stop)
        parts = [
            scenario.price[:, window].T / scale.price,
            scenario.carbon[:, window].T / scale.carbon,
            scenario.water[:, window].T / scale.water,
            scenario.workload[:, window].T / scale.workload,
            scenario.capacity[:, window].T / scale.capacity,
        ]
        hour_of_day = (scenario.timestamps[window].astype("datetime64[h]").astype(np.int64) % 24) * (2 * np.pi / 24)
        left = 1.0 - np.arange(hours) / hours
        parts.append(np.column_stack([np.sin(hour_of_day), np.cos(hour_of_day), left]))
        if self.forecast_hours:
            parts.append(self._forecast(scenario, start, hours, rng))
        rows = np.concatenate(parts, axis=1).astype(np.float32)
        return np.vstack([rows, rows[-1:]])

    def _forecast(self, scenario: Scenario, start: int, hours: int, rng: np.random.Generator) -> np.ndarray:
        values = self.forecaster.predict_episode(scenario, start, hours, self.forecast_hours, rng)  # [hours, H, 3N+J]
        require_finite_forecast(values, self.forecaster, scenario, start)
        return (values / self._forecast_scale).reshape(hours, -1)

    def fill(self, out: np.ndarray, static_row: np.ndarray, footprint: np.ndarray) -> np.ndarray:
        """Write one observation into ``out`` (float32 [size]) from a static row and the equity state.

        Args:
            footprint: [2, N] cumulative weighted water and carbon footprints, already divided by
                the episode's footprint scales (see :meth:`footprint_divisors`).
        """
        s = self.static_size
        n2 = 2 * self.n_regions
        out[:s] = static_row
        out[s : s + n2] = footprint.ravel()
        out[s + n2 :] = (footprint.max(axis=1, keepdims=True) - footprint).ravel()
        return out

    def footprint_factors(self, weights: np.ndarray, hours: int) -> np.ndarray:
        """[2, 1] factors turning raw footprints (m^3, t) into observed ones for an episode of ``hours``."""
        scale = self.scale
        return (weights / (np.array([scale.footprint_water, scale.footprint_carbon]) * hours))[:, None]


class EpisodeObserver:
    """Observations of one episode: a window of ``hours`` hours of ``scenario`` from ``start``.

    The environment and every learned policy build their observations through this class, so a
    policy sees at evaluation exactly what it saw in training.
    """

    def __init__(self, builder: ObservationBuilder, scenario: Scenario, start: int, hours: int, rng: np.random.Generator):
        self.builder = builder
        self.rows = builder.episode_rows(scenario, start, hours, rng)
        self.factors = builder.footprint_factors(scenario.footprint_weights, hours)

    def observe(self, step: int, footprint: np.ndarray) -> np.ndarray:
        """The observation at ``step`` (0-based within the episode) for cumulative footprints [2, N]."""
        out = np.empty(self.builder.size, dtype=np.float32)
        return self.builder.fill(out, self.rows[step], footprint * self.factors)
