"""Environment throughput: steps per second with random actions, 10 regions, one process.

Baselines measured in the same run:
* "naive": the same environment but recomputing J from the whole history every step (what an
  implementation without incremental state does; its cost grows with the episode);
* "Pendulum-v1": Gymnasium's classic-control environment, a familiar yardstick of a cheap step.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from common import best_time, print_table
from eglb.envs.glb_env import GLBEnv
from eglb.envs.metrics import metrics_from_energy
from eglb.envs.synthetic import make_synthetic

HOURS = 457


class NaiveGLBEnv(GLBEnv):
    """Recomputes the objective from the full energy history at every step."""

    def step(self, action):
        routing = self.decoder.decode(action, self.hour)
        if self._step == 0:
            self._history = np.zeros((self.n_regions, self.hours))
        self._history[:, self._step] = routing.sum(axis=1)
        window = self.scenario.window(self.start, self.start + self._step + 1)
        J = metrics_from_energy(window, self._history[:, : self._step + 1]).J
        reward, self._objective = self._objective - J, J
        self._step += 1
        self.hour += 1
        return self._observe(), reward, self._step == self.hours, False, {}


def steps_per_second(env, repeats=5) -> float:
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(HOURS)]

    def episode():
        env.reset()
        for a in actions:
            env.step(a)

    return HOURS / best_time(episode, repeats)


def main() -> str:
    rows = []
    pendulum = gym.make("Pendulum-v1").unwrapped
    pendulum.reset(seed=0)
    pendulum_rate = steps_per_second(_Looped(pendulum))
    for setting in ("full", "partial"):
        scenario = make_synthetic(0, hours=HOURS, setting=setting)
        for mode in ("routing", "dual", "share"):
            rate = steps_per_second(GLBEnv(scenario, action_mode=mode))
            made = steps_per_second(gym.make("eglb.envs:GLB-v0", scenario=scenario, action_mode=mode))
            naive = steps_per_second(NaiveGLBEnv(scenario, action_mode=mode), repeats=2)
            rows.append([setting, mode, f"{rate:,.0f}", f"{made:,.0f}", f"{rate / naive:.1f}x", f"{rate / pendulum_rate:.2f}x"])
    return print_table(
        f"GLBEnv steps/s, random actions, N = J = 10, {HOURS}-hour episodes (Pendulum-v1: {pendulum_rate:,.0f} steps/s)",
        ["mask", "action", "GLBEnv", "via gym.make", "vs naive", "vs Pendulum"],
        rows,
    )


class _Looped:
    """Pendulum never ends; give it the same interface as an episode of HOURS steps."""

    def __init__(self, env):
        self.env, self.action_space = env, env.action_space

    def reset(self, seed=None):
        return self.env.reset(seed=seed)

    def step(self, action):
        return self.env.step(action)


if __name__ == "__main__":
    main()
