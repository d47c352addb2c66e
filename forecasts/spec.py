"""Forecasters by name, as controller specs give them (``forecaster=noisy,noise=0.1``).

==============  ===========================  ==========================================
name            parameters                   forecaster
==============  ===========================  ==========================================
``perfect``                                  :class:`eglb.envs.forecast.PerfectForecaster`
``noisy``       ``noise`` (default 0.1)      :class:`eglb.envs.forecast.NoisyTruthForecaster`
``persistence``                              :class:`eglb.forecasts.naive.PersistenceForecaster`
``seasonal``    ``period`` (hours, 24)       :class:`eglb.forecasts.naive.SeasonalNaiveForecaster`
``learned``     ``model`` (folder, required) :func:`eglb.forecasts.learned.load_learned_forecaster`
``market``      ``base`` (default seasonal)  :class:`eglb.forecasts.market.MarketForecaster`: published
                and the base's parameters    prices exactly, the rest from the base forecaster
==============  ===========================  ==========================================

``market:base=seasonal`` (in a controller spec ``forecaster=market,base=seasonal``) is the information an
operator has in practice; ``market:base=learned,model=runs/fc`` and ``market:base=seasonal,period=168``
pass the remaining parameters to the base.
"""

from __future__ import annotations

from collections.abc import Mapping

from eglb.envs.errors import InputError
from eglb.envs.forecast import Forecaster, NoisyTruthForecaster, PerfectForecaster
from eglb.forecasts.naive import PersistenceForecaster, SeasonalNaiveForecaster

FORECASTERS = ("perfect", "noisy", "persistence", "seasonal", "learned", "market")
#: The parameters each forecaster reads from a spec (``market`` also passes its base's on).
PARAMETERS = {
    "perfect": (),
    "noisy": ("noise",),
    "persistence": (),
    "seasonal": ("period",),
    "learned": ("model",),
    "market": ("base", "noise", "period", "model"),
}
#: The base forecaster of ``market`` when the spec names none.
DEFAULT_MARKET_BASE = "seasonal"


def _number(params: Mapping[str, str], key: str, default: float, kind=float):
    text = params.get(key)
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise InputError(f"forecaster parameter {key}={text!r}: expected {'an integer' if kind is int else 'a number'}") from None
    return value


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
        return NoisyTruthForecaster(_number(params, "noise", 0.1))
    if name == "persistence":
        return PersistenceForecaster()
    if name == "seasonal":
        return SeasonalNaiveForecaster(_number(params, "period", 24, int))
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

    return load_learned_forecaster(params["model"])


def forecaster_from_spec(text: str) -> Forecaster | None:
    """``NAME[:key=value,...]`` (e.g. ``seasonal:period=168``, ``learned:model=runs/fc``) into a forecaster;
    the empty spec gives None (the environment's own noisy truth)."""
    text = (text or "").strip()
    if not text:
        return None
    name, _, rest = text.partition(":")
    params = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"forecaster spec {text!r}: expected NAME[:key=value,...], got {part!r}")
        params[key.strip()] = value.strip()
    return build_forecaster(name.strip(), params)
