"""Forecasters by name, as controller specs give them (``forecaster=noisy,noise=0.1``).

==============  ===========================  ==========================================
name            parameters                   forecaster
==============  ===========================  ==========================================
``perfect``                                  :class:`eglb.envs.forecast.PerfectForecaster`
``noisy``       ``noise`` (0..10, 0.1)       :class:`eglb.envs.forecast.NoisyTruthForecaster`
``persistence``                              :class:`eglb.forecasts.naive.PersistenceForecaster`
``seasonal``    ``period`` (1..8784 h, 24)   :class:`eglb.forecasts.naive.SeasonalNaiveForecaster`
``learned``     ``model`` (folder, required) :func:`eglb.forecasts.learned.load_learned_forecaster`
``market``      ``base`` (default seasonal)  :class:`eglb.forecasts.market.MarketForecaster`: published
                and the base's parameters    prices exactly, the rest from the base forecaster
==============  ===========================  ==========================================

``market:base=seasonal`` (in a controller spec ``forecaster=market,base=seasonal``) is the information an
operator has in practice; ``market:base=learned,model=runs/fc`` and ``market:base=seasonal,period=168``
pass the remaining parameters to the base.

``past`` (0..8784 hours, default 0; ``seasonal``, ``learned`` and a ``market`` whose base is one of
them): the hours of the scenario's observed past the forecaster reads (:mod:`eglb.envs.past`; the
history benchmark's weeks carry 336). ``market:base=seasonal,past=336`` is the information of an
operator who has watched the two weeks before the episode.
"""

from __future__ import annotations

from collections.abc import Mapping

from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, NoisyTruthForecaster, PerfectForecaster
from eglb.envs.limits import MAX_WINDOW_HOURS
from eglb.envs.validation import parse_number, parse_settings
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster

FORECASTERS = ("perfect", "noisy", "persistence", "seasonal", "learned", "market")
#: The parameters each forecaster reads from a spec (``market`` also passes its base's on).
PARAMETERS = {
    "perfect": (),
    "noisy": ("noise",),
    "persistence": (),
    "seasonal": ("period", "past"),
    "learned": ("model", "past"),
    "market": ("base", "noise", "period", "model", "past"),
}
#: The base forecaster of ``market`` when the spec names none.
DEFAULT_MARKET_BASE = "seasonal"
#: Largest relative forecast noise (as env.forecast_noise) and longest season (a year of hours) a spec may ask for.
MAX_NOISE = 10.0
MAX_PERIOD = 8784


def _number(params: Mapping[str, str], key: str, default: float, kind=float, low=0.0, high=None):
    text = params.get(key)
    return default if text is None else parse_number(text, f"forecaster parameter {key}", kind, low, high)


def build_forecaster(name: str, params: Mapping[str, str] | None = None) -> Forecaster:
    """The forecaster ``name`` with its parameters (strings, as parsed from a spec).

    Parameters that belong to other forecasters are an error, so that a typo cannot pass silently.
    """
    params = dict(params or {})
    if name not in FORECASTERS:
        raise InputError(f"unknown forecaster {name!r}; expected one of {', '.join(FORECASTERS)}")
    stray = sorted(set(params) - set(PARAMETERS[name]))
    if stray:
        allowed = ", ".join(PARAMETERS[name]) or "none"
        raise InputError(f"forecaster {name!r} takes no parameter {', '.join(stray)} (its parameters: {allowed})")
    if name == "perfect":
        return PerfectForecaster()
    if name == "noisy":
        return NoisyTruthForecaster(_number(params, "noise", 0.1, high=MAX_NOISE))
    if name == "persistence":
        return PersistenceForecaster()
    past = _number(params, "past", 0, int, 0, MAX_WINDOW_HOURS)
    if name == "seasonal":
        return SeasonalNaiveForecaster(_number(params, "period", 24, int, 1, MAX_PERIOD), past)
    if name == "market":
        from eglb.forecasts.market import MarketForecaster

        base = params.pop("base", DEFAULT_MARKET_BASE)
        if base == "market":
            raise InputError(
                "forecaster 'market' needs another forecaster as its base (base=seasonal, persistence, learned, ...)"
            )
        return MarketForecaster(build_forecaster(base, params))
    if "model" not in params:
        raise InputError("forecaster 'learned' needs model=FOLDER (a folder written by python -m eglb.forecasts.train)")
    from eglb.forecasts.learned import load_learned_forecaster  # torch only when asked for

    return load_learned_forecaster(params["model"], past)


def reads_past(name: str, params: Mapping[str, str] | None = None) -> bool:
    """Whether forecaster ``name`` (with ``params``: a market's base) can read a scenario's observed past."""
    if name == "market":
        name = (params or {}).get("base", DEFAULT_MARKET_BASE)
    return "past" in PARAMETERS.get(name, ())


def forecaster_from_spec(text: str) -> Forecaster | None:
    """``NAME[:key=value,...]`` (e.g. ``seasonal:period=168``, ``learned:model=runs/fc``) into a forecaster;
    the empty spec gives None (the environment's own noisy truth)."""
    text = (text or "").strip()
    if not text:
        return None
    name, _, rest = text.partition(":")
    return build_forecaster(name.strip(), parse_settings(rest, f"forecaster spec {text!r}"))
