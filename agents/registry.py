"""Algorithm names as users type them, turned into policies and offline solvers.

Grammar of one algorithm spec (``evaluate.py --algos`` takes a comma-separated list of them):

    glb-cost | glb-carbon | glb-water | glb-dist | eglb-off | eglb     classical algorithms
    KIND:RUN_FOLDER                                                  a learned policy (ppo, sac, td3, a2c, bc)
    robust(SPEC, lambda=0.1, b=0, slack=const|sqrt|linear, floor=P)  the robustification layer around SPEC
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.base import OfflineSolver, Policy
from agents.baselines import Nearest, glb_carbon, glb_cost, glb_water
from agents.eglb_online import ETA_SCALE, EGLBOnline
from agents.offline import EGLBOffline
from envs.errors import InputError

LEARNED_KINDS = ("ppo", "sac", "td3", "a2c", "recurrent-ppo", "bc")


@dataclass(frozen=True)
class AlgorithmOptions:
    """Settings shared by the algorithms of one evaluation.

    Attributes:
        eta: eGLB step size (None: the default rule). eta_scale: multiplier of the default rule.
        nearest: GLB-Dist's nearest region per gateway (None: co-located).
        device: torch device for learned policies.
        forecast_noise: overrides the forecast noise learned policies see (the noisy-forecast shift).
    """

    eta: float | None = None
    eta_scale: float | None = None
    nearest: Sequence[str] | None = None
    device: str = "cpu"
    forecast_noise: float | None = None


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of specs, keeping commas inside parentheses."""
    specs, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise InputError(f"unbalanced ')' in algorithm list {text!r}")
        if char == "," and depth == 0:
            specs.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise InputError(f"unbalanced '(' in algorithm list {text!r}")
    specs.append("".join(current).strip())
    if any(not s for s in specs):
        raise InputError(f"empty algorithm name in {text!r}")
    return specs


def build(spec: str, options: AlgorithmOptions = AlgorithmOptions()) -> Policy | OfflineSolver:
    """The policy or offline solver named by ``spec`` (see the module docstring)."""
    spec = spec.strip()
    if spec.startswith("robust(") and spec.endswith(")"):
        from robust.spec import build_robust

        return build_robust(spec, options)
    if ":" in spec:
        kind, _, path = spec.partition(":")
        # Learned policies and the robust layer import torch / stable-baselines3 only when asked for.
        if kind not in LEARNED_KINDS:
            raise InputError(f"unknown learned policy kind {kind!r} in {spec!r} (expected one of {', '.join(LEARNED_KINDS)})")
        from agents.learned import load_learned

        return load_learned(kind, path, options)
    if spec in _CLASSICAL_FACTORIES:
        return _CLASSICAL_FACTORIES[spec](options)
    raise InputError(
        f"unknown algorithm {spec!r}; expected one of {', '.join(CLASSICAL)}, KIND:RUN_FOLDER "
        f"(KIND in {', '.join(LEARNED_KINDS)}) or robust(SPEC, lambda=...)"
    )


_CLASSICAL_FACTORIES = {
    "glb-cost": lambda options: glb_cost(),
    "glb-carbon": lambda options: glb_carbon(),
    "glb-water": lambda options: glb_water(),
    "glb-dist": lambda options: Nearest(options.nearest),
    "eglb-off": lambda options: EGLBOffline(),
    "eglb": lambda options: EGLBOnline(
        eta=options.eta, eta_scale=ETA_SCALE if options.eta_scale is None else options.eta_scale
    ),
}
CLASSICAL = tuple(_CLASSICAL_FACTORIES)
