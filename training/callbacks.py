"""A stable-baselines3 callback for your own training on our environments: held-out J / J(eGLB-Off) in SB3's logger.

    import gymnasium, eglb
    from stable_baselines3 import PPO
    from eglb.training.callbacks import EGLBEvalCallback

    model = PPO("MlpPolicy", gymnasium.make("GLB-Synthetic-v0"), tensorboard_log="tb")
    model.learn(100_000, callback=EGLBEvalCallback("GLB-Synthetic-v0", eval_freq=5_000))

Every ``eval_freq`` environment steps the callback plays the model's current policy (deterministic,
no save and reload) on held-out scenarios and records, through the model's own logger (so
TensorBoard, CSV and stdout get them like SB3's own numbers):

* ``eval/ratio_to_offline``: mean J / J(eGLB-Off) over the held-out scenarios (1 is the hindsight
  optimum; lower is better), the number train.py selects checkpoints on;
* ``eval/eglb_ratio``: the online expert eGLB's ratio on the same scenarios (the level to beat);
* ``eval/cost``, ``eval/par_water``, ``eval/par_carbon``: the mean energy cost (USD) and PARs.

The held-out scenarios default to the ones train.py selects on for the id: synthetic seeds 0, 1, 2
of the id's episode length (GLB-Synthetic-v0), or the published set's held-out hours 304..457
(GLB-Eglb2022-v0). Test on other data (``evaluate.py``, the test seeds 100 and up) before reporting.
"""

from __future__ import annotations

from collections.abc import Sequence

from eglb.agents.learned import PolicyIO
from eglb.agents.sb3_policy import Sb3Predictor
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario
from eglb.robust.learned import learned_policy
from eglb.training.envs import VARIANTS, variant_config, variant_policy_io
from eglb.training.evaluator import PeriodicEvaluator
from stable_baselines3.common.callbacks import BaseCallback

#: The figures the callback records (under ``eval/``), as train.py's own runs do.
RECORDED = ("ratio_to_offline", "eglb_ratio", "cost", "par_water", "par_carbon")


def held_out_scenarios(env_id: str) -> list[Scenario]:
    """The scenarios train.py selects on for a registered id (see the module docstring)."""
    config = variant_config(env_id)
    if VARIANTS[env_id] == "synthetic":
        from eglb.envs.synthetic import SELECTION_SEEDS, make_synthetic

        return [make_synthetic(seed, hours=config.env.episode_hours) for seed in SELECTION_SEEDS]
    from eglb.envs.eglb2022 import load_eglb2022

    published = load_eglb2022()
    return [published.window(304, published.n_hours)]


class PeriodicCallback(BaseCallback):
    """Calls :meth:`evaluate` every ``interval`` environment steps (all parallel environments counted),
    first at the next multiple of ``interval`` after the steps the model has taken (so a resumed run
    keeps its schedule). Subclasses define :meth:`evaluate`."""

    def __init__(self, interval: int, verbose: int = 0):
        super().__init__(verbose)
        self.interval = interval
        self.next_eval = interval

    def _on_training_start(self) -> None:
        self.next_eval = (self.num_timesteps // self.interval + 1) * self.interval

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.interval
            self.evaluate()
        return True

    def evaluate(self):
        raise NotImplementedError


class EGLBEvalCallback(PeriodicCallback):
    """Score the model being trained on held-out scenarios and log the figures (see the module docstring).

    Args:
        env_id: the registered id the model trains on (GLB-Synthetic-v0, GLB-Eglb2022-v0): how its
            policy observes and acts. For an environment of your own settings give ``io`` instead.
        eval_freq: environment steps between evaluations (all parallel environments counted).
        scenarios: the held-out scenarios (default: the id's, see :func:`held_out_scenarios`).
        io: the observation and action settings (eglb.agents.learned.PolicyIO), instead of ``env_id``.
        verbose: 1 prints a line per evaluation.

    Attributes:
        history: every evaluation's row (``steps``, the recorded figures). best: the lowest ratio so far.
    """

    def __init__(
        self,
        env_id: str | None = "GLB-Synthetic-v0",
        eval_freq: int = 10_000,
        scenarios: Sequence[Scenario] | None = None,
        io: PolicyIO | None = None,
        verbose: int = 0,
    ):
        if isinstance(eval_freq, bool) or not isinstance(eval_freq, int) or eval_freq < 1:
            raise InputError(f"eval_freq must be a whole number of steps >= 1, got {eval_freq!r}")
        super().__init__(eval_freq, verbose)
        if io is None and env_id not in VARIANTS:
            raise InputError(f"env_id must be one of {', '.join(VARIANTS)} (or give io=PolicyIO(...)), got {env_id!r}")
        if scenarios is None and env_id not in VARIANTS:
            raise InputError("give the held-out scenarios with io= (the defaults are those of a registered id)")
        self.io = io if io is not None else variant_policy_io(env_id)
        self.evaluator = PeriodicEvaluator(list(scenarios) if scenarios is not None else held_out_scenarios(env_id))

    @property
    def history(self) -> list[dict]:
        return self.evaluator.history

    @property
    def best(self) -> float:
        return self.evaluator.best

    def _on_training_start(self) -> None:
        size = self.io.observation_size()
        if self.model.observation_space.shape != (size,):
            raise InputError(
                f"the model observes {self.model.observation_space.shape}, but these settings give ({size},): "
                "is env_id the environment it trains on?"
            )
        super()._on_training_start()

    def evaluate(self) -> dict:
        """Score the current policy now; returns the row (also logged and kept in ``history``)."""
        policy = learned_policy(Sb3Predictor(self.model.policy), self.io, "model")
        row, improved = self.evaluator.record(self.num_timesteps, policy)
        for key in RECORDED:
            self.logger.record(f"eval/{key}", row[key])
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)  # as SB3's EvalCallback: the row lands at this step
        if self.verbose:
            print(
                f"step {self.num_timesteps}: held-out J / J(eGLB-Off) {row['ratio_to_offline']:.4f} "
                f"(eGLB {row['eglb_ratio']:.4f}){' best so far' if improved else ''}"
            )
        return row
