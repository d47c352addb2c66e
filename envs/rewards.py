"""Training rewards: the one place a reward is computed from the hourly increase of J.

* ``"J"``: minus the hour's increase of J, times ``scale``; an episode's return is ``-J * scale``.
* ``"vs-expert"``: minus (the hour's increase of J minus the eGLB expert's increase on the same hour,
  the expert running in a shadow copy that sees only its own actions), times ``scale``; the return is
  ``(J(eGLB) - J) * scale``. The expert's J does not depend on the agent, so this changes every
  episode's return by a constant and leaves the optimal policy unchanged, while removing most of the
  return's variance across traces.

The environment (:class:`eglb.envs.glb_env.GLBEnv`), the training wrappers and the robustification-aware
training environment all call :func:`hour_reward`.
"""

from __future__ import annotations

REWARDS = ("J", "vs-expert")


def hour_reward(increase: float, scale: float, expert_increase: float | None = None) -> float:
    """The reward of one hour.

    Args:
        increase: the hour's increase of J of the executed actions, USD.
        scale: reward scale (1: rewards in USD).
        expert_increase: the expert's increase of J on the same hour, USD ("vs-expert"), or None ("J").
    """
    relative = increase if expert_increase is None else increase - expert_increase
    return -relative * scale
