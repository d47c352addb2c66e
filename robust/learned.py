"""Learned policies with the layer they were trained in: the composition shared by training and the registry.

A run trained on FlexGLBEnv (``io.knobs``: ``train.py --jobs/--models``) acts through that environment
(agents/knob_learned.py), inside :class:`eglb.robust.knob_layer.KnobRobustPolicy` when trained with it.

A run trained with the robustification layer inside its environment (``io.robust`` in its policy card)
observes the layer's features and proposes actions the layer blends; at evaluation it comes back with
the same layer around it, so ``ppo:runs/NAME`` of such a run is robust by construction. Plain and
residual runs are returned as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from eglb.agents.base import Policy
from eglb.agents.knob_learned import knob_policy
from eglb.agents.learned import LearnedPolicy, PolicyCard, PolicyIO, load_predictor, policy_from_predictor, weights_path
from eglb.robust.knob_layer import KnobRobustPolicy
from eglb.robust.layer import RobustPolicy, Slack


def learned_policy(predict: Callable[[np.ndarray], np.ndarray], io: PolicyIO, name: str, seed: int = 0) -> Policy:
    """The policy of a trained predictor, inside its layer when it was trained with one."""
    if io.knobs is not None:  # trained on FlexGLBEnv (with the layer: in KnobRobustTrainingEnv)
        policy = knob_policy(predict, io, name, seed)
        if io.robust is None:
            return policy
        layer = KnobRobustPolicy(policy, lam=io.robust["lam"], slack=Slack(io.robust["b"], io.robust["slack"]), name=name)
        policy.extra_features = layer.features
        return layer
    if io.robust is None:
        return policy_from_predictor(predict, io, name, seed)
    policy = LearnedPolicy(predict, io, name, seed)
    layer = RobustPolicy(policy, lam=io.robust["lam"], slack=Slack(io.robust["b"], io.robust["slack"]), name=name)
    policy.extra_features = layer.features
    return layer


def load_learned(
    folder: Path | str, name: str | None = None, which: str = "best", forecast_noise: float | None = None
) -> tuple[PolicyCard, Policy]:
    """The card and the policy of a run folder (see agents/learned.py; no code in the folder runs).

    Args:
        folder: the run folder. name: the label in tables (default ``ALGO:FOLDER``).
        which: "best" (best weights if saved, else the latest) or "latest".
        forecast_noise: overrides the forecast noise the policy sees (the noisy-forecast shift).
    """
    card = PolicyCard.load(folder)
    io = card.io
    if forecast_noise is not None and not io.forecaster:  # the shift noises the default (noisy-truth) forecast
        io = PolicyIO(**{**io.__dict__, "forecast_noise": float(forecast_noise)})
    predictor = load_predictor(card, weights_path(folder, which))
    return card, learned_policy(predictor, io, name or f"{card.algo}:{folder}")
