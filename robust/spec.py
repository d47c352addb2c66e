"""Parse ``robust(SPEC, lambda=0.1, b=0, slack=const|sqrt|linear, floor=P)`` into a RobustPolicy."""

from __future__ import annotations

from envs.errors import InputError
from robust.layer import RobustPolicy, Slack

KEYS = ("lambda", "b", "slack", "floor")


def build_robust(spec: str, options) -> RobustPolicy:
    """The layer around the algorithm named first inside ``robust(...)``; see agents/registry.py."""
    from agents.registry import build, split_specs

    inner_text = spec[len("robust(") : -1]
    parts = split_specs(inner_text)
    inner, settings = parts[0], {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in KEYS:
            raise InputError(f"{spec}: expected KEY=VALUE with KEY in {', '.join(KEYS)}, got {part!r}")
        if key in settings:
            raise InputError(f"{spec}: {key} is given twice")
        settings[key] = value.strip()
    try:
        lam = float(settings.get("lambda", 0.1))
        b = float(settings.get("b", 0.0))
        floor = float(settings["floor"]) if "floor" in settings else None
    except ValueError as exc:
        raise InputError(f"{spec}: {exc}") from None
    if inner.startswith("robust("):
        raise InputError(f"{spec}: a robust layer inside another is not supported")
    return RobustPolicy(build(inner, options), lam=lam, slack=Slack(b, settings.get("slack", "const")),
                        price_floor=floor, name=spec)
