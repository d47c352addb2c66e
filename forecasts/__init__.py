"""Forecasters behind one protocol (:class:`eglb.envs.forecast.Forecaster`), used by the environment's
forecast observation and by the forecast-driven controllers (``eglb.agents.rhc``).

=================  ===============================================================  =============
name (specs)       what it predicts for hour t + k, knowing hours 0..t              module
=================  ===============================================================  =============
``perfect``        the truth (an oracle, the upper reference)                       envs.forecast
``noisy``          the truth times 1 + noise sqrt(k) N(0, 1) (an oracle)             envs.forecast
``persistence``    hour t's inputs                                                   forecasts.naive
``seasonal``       the same hour one season earlier (period 24: yesterday, 168:      forecasts.naive
                   last week)
``learned``        a small network trained on past traces, loaded from a folder     forecasts.learned
``market``         published prices exactly (day-ahead markets, tariffs), the rest  forecasts.market
                   from a base forecaster (the information an operator has)
=================  ===============================================================  =============

Errors against the truth: :mod:`eglb.forecasts.accuracy`; names to forecasters: :mod:`eglb.forecasts.spec`.
"""

from eglb.envs.forecast import Forecast, Forecaster, NoisyTruthForecaster, PerfectForecaster
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster

__all__ = [
    "Forecast",
    "Forecaster",
    "NoisyTruthForecaster",
    "PerfectForecaster",
    "PersistenceForecaster",
    "SeasonalNaiveForecaster",
]

if __name__ != "eglb.forecasts":  # the folder forecasts/ is the package eglb.forecasts, never a top-level forecasts
    raise ImportError(f"import eglb.forecasts, not {__name__} (the repository's folders are mapped into the eglb package)")
