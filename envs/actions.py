"""How an environment action becomes a feasible routing of the hour.

Three action modes, all ending in a routing that meets workload, mask and capacity exactly:

* ``routing``: a Box in [-1, 1]^(J*N), read gateway-major as [J, N] scores; each gateway's load is
  split over its allowed regions by a softmax of ``temperature * score`` (temperature 5 lets one
  region get up to e^10 times another's share), then capacity is repaired (:meth:`Router.repair`).
* ``dual``: a Box in [-1, 1]^(2N): the first N values set the water duals, the last N the carbon
  duals, gamma = (a + 1) / 2 in [0, 1]; the hour's routing is the cheapest one for the calibrated
  prices q[i] = p[i] + mu_c gamma_c[i] c[i] + mu_w gamma_w[i] w[i] (SPEC section 4, the routine of
  the online expert). The offline optimum's duals lie in [0, 1] on this scale.
* ``share``: a Box in [0, 1]^(N*J), region-major as [N, J]: the share of gateway j's load served in
  region i, so the routing is ``share * workload[j]``; it is sanitized (NaN, negatives, masked-out
  entries, columns not summing to 1) and repaired. Classical policies and replays act through this
  mode: a feasible routing divided by the workload passes through unchanged.
"""

from __future__ import annotations

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.routing import Router
from eglb.envs.validation import describe
from gymnasium import spaces

ACTION_MODES = ("routing", "dual", "share")
MEANINGS = {
    "routing": "per-gateway scores of every region in [-1, 1], gateway-major",
    "dual": "water then carbon dual prices of every region in [-1, 1]",
    "share": "the share of every gateway's load served in every region, region-major, in [0, 1]",
}


def calibrated_price(price, water, carbon, gamma_water, gamma_carbon, mu_water: float, mu_carbon: float):
    """q = p + mu_c gamma_c c + mu_w gamma_w w: prices with the footprints charged at the duals."""
    return price + mu_carbon * gamma_carbon * carbon + mu_water * gamma_water * water


def checked_action(action, shape: tuple[int, ...], what: str, meaning: str, exact: bool = False) -> np.ndarray:
    """``action`` as a float array of ``shape``, or InputError naming ``what`` it is and its ``meaning``.

    Real numbers only: text (even "0.5"), objects and complex numbers are refused, never converted.
    Any array of the right size is reshaped (flat actions), unless ``exact`` asks for the shape itself."""
    if isinstance(action, np.ndarray) and action.shape == shape and action.dtype.kind == "f":
        return action
    try:
        array = np.asarray(action)
    except (TypeError, ValueError):  # ragged nesting
        array = None
    if array is None or array.dtype.kind not in "biuf" or array.size != int(np.prod(shape)) or (exact and array.shape != shape):
        if action is None:
            got = "None"
        elif array is None:
            got = f"a ragged {type(action).__name__}"
        elif array.dtype.kind not in "biuf":
            got = (
                f"{type(action).__name__} of {array.dtype} values"
                if array.ndim
                else f"{type(action).__name__} {describe(action)}"
            )
        else:
            got = f"{type(action).__name__} of shape {array.shape}"
        raise InputError(f"{what} must be an array of shape {shape} of real numbers ({meaning}), got {got}")
    return array.astype(float, copy=False).reshape(shape)


def dual_from_action(action: np.ndarray, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Map a ``dual`` action in [-1, 1]^(2N) to (gamma_water [N], gamma_carbon [N]) in [0, 1]."""
    gamma = (np.clip(action, -1.0, 1.0) + 1.0) * 0.5
    return gamma[:n_regions], gamma[n_regions:]


def price_from_dual_action(action: np.ndarray, scenario, t: int) -> np.ndarray:
    """The calibrated price [N] (USD/MWh) a dual-price action asks for at hour ``t`` of ``scenario``;
    non-finite entries read as 0 (the action's own values are clipped by :func:`dual_from_action`)."""
    gamma_water, gamma_carbon = dual_from_action(np.nan_to_num(np.asarray(action, dtype=float)), scenario.n_regions)
    return calibrated_price(
        scenario.price[:, t],
        scenario.water[:, t],
        scenario.carbon[:, t],
        gamma_water,
        gamma_carbon,
        scenario.mu_water,
        scenario.mu_carbon,
    )


def shares_from_routing(routing: np.ndarray, workload: np.ndarray) -> np.ndarray:
    """The ``share`` action [N*J] of a routing [N, J] (MW) for gateway loads ``workload`` [J] (MW)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(workload > 0, routing / workload, 0.0).ravel()


def action_from_dual(gamma_water: np.ndarray, gamma_carbon: np.ndarray) -> np.ndarray:
    """Inverse of :func:`dual_from_action` (clipped to the action box)."""
    return np.clip(np.concatenate([gamma_water, gamma_carbon]) * 2.0 - 1.0, -1.0, 1.0)


class ActionDecoder:
    """Turns actions of one mode into feasible routings for the hours of one scenario."""

    def __init__(self, mode: str, router: Router, temperature: float = 5.0):
        if mode not in ACTION_MODES:
            raise InputError(f"action mode must be one of {', '.join(ACTION_MODES)}, got {mode!r}")
        if not np.isfinite(temperature) or temperature <= 0:
            raise InputError(f"argument 'routing_temperature' must be > 0, got {temperature}")
        self.mode = mode
        self.router = router
        self.temperature = float(temperature)
        scenario = router.scenario
        self._mask_t = scenario.mask.T
        self._shape_jn = (scenario.n_gateways, scenario.n_regions)
        self.shape = self.space(mode, scenario.n_regions, scenario.n_gateways).shape

    @staticmethod
    def space(mode: str, n_regions: int, n_gateways: int) -> spaces.Box:
        """The action space of a mode."""
        if mode == "routing":
            return spaces.Box(-1.0, 1.0, shape=(n_gateways * n_regions,), dtype=np.float32)
        if mode == "dual":
            return spaces.Box(-1.0, 1.0, shape=(2 * n_regions,), dtype=np.float32)
        if mode == "share":
            return spaces.Box(0.0, 1.0, shape=(n_regions * n_gateways,), dtype=np.float64)
        raise InputError(f"action mode must be one of {', '.join(ACTION_MODES)}, got {mode!r}")

    def check(self, action) -> np.ndarray:
        """The action as an array of the mode's shape, or a clear error saying what is expected."""
        return checked_action(action, self.shape, f"{self.mode} action", MEANINGS[self.mode])

    def decode(self, action: np.ndarray, t: int) -> np.ndarray:
        """A feasible routing [N, J] (MW) for hour t of the router's scenario."""
        if self.mode == "routing":
            return self._decode_routing(action, t)
        if self.mode == "dual":
            return self._decode_dual(action, t)
        shares = np.asarray(action, dtype=float).reshape(self._shape_jn[::-1])
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 and overflow become junk that sanitize drops
            routing = shares * self.router.scenario.workload[:, t]
        return self.router.sanitize(routing, t)

    def _decode_routing(self, action: np.ndarray, t: int) -> np.ndarray:
        scenario = self.router.scenario
        # fmax/fmin map NaN to the bound; scores in [-1, 1] keep exp() far from overflow.
        scores = np.fmin(np.fmax(np.asarray(action, dtype=float), -1.0), 1.0).reshape(self._shape_jn)
        logits = self.temperature * scores
        if not self.router.full_mask:
            logits = np.where(self._mask_t, logits, -np.inf)
        # Softmax shifted by each gateway's largest logit: exact, and finite at any temperature.
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        routing = (weights * (scenario.workload[:, t] / weights.sum(axis=1))[:, None]).T
        return self.router.repair(routing, t)

    def _decode_dual(self, action: np.ndarray, t: int) -> np.ndarray:
        return self.router.cheapest(price_from_dual_action(action, self.router.scenario, t), t)
