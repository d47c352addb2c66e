"""RLlib's PPO on the eGLB training environment, scored by our own evaluation: an example (optional extra).

    pip install -e '.[rllib]'                     # RLlib's own dependencies, see below
    python examples/rllib_ppo.py --iterations 20 --env-runners 2 [--ray auto]

Why an example and not ``train.py --backend rllib``: ``pip install ray[rllib]`` pins
``gymnasium==1.2.2`` (Ray 2.58 to 2.60), which would downgrade the gymnasium 1.4 this project is
tested with. RLlib's code ships inside the ``ray`` wheel itself; its extra only adds dm-tree, lz4
and ormsgpack (and the pin), so our ``rllib`` extra installs those three and leaves gymnasium alone.
With them, RLlib's PPO runs on gymnasium 1.4, numpy 2 and torch 2.13 CPU (tests/test_ray.py).

The environment is the one ``train.py --algo ppo`` trains on (ppo.yml: dual action, residual on the
eGLB expert, vs-expert reward; new synthetic traces every episode), built in every env runner, so the
runners spread over a cluster's nodes. The trained RLModule acts through our learned policy (same
observation and action decoding as in training), and is scored on held-out synthetic seeds by the
metrics code every other algorithm uses, next to eGLB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from eglb.training.config import DataConfig, policy_io  # noqa: E402

import eglb  # noqa: E402
from eglb.trainer import scenarios_for  # noqa: E402


def run_config(episode_hours: int, eval_seeds: tuple[int, ...]):
    config = eglb.training_config("ppo", data=DataConfig(eval_seeds=eval_seeds), sets=[f"env.episode_hours={episode_hours}"])
    return config.for_scenario(scenarios_for(config)[2])


def make_env_creator(config):
    def create(env_config):
        from eglb.training.envs import make_env

        return make_env(config, None, seed=int(env_config.get("seed", 0)) + 1000 * env_config.worker_index)

    return create


def module_predictor(module):
    """obs [D] -> the PPO module's deterministic action (the Gaussian's mean, clipped to the action box)."""
    import torch

    def predict(observation: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = module.forward_inference({"obs": torch.as_tensor(observation[None], dtype=torch.float32)})
        inputs = out["action_dist_inputs"][0].numpy()
        return np.clip(inputs[: inputs.shape[0] // 2], -1.0, 1.0)

    return predict


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20, help="PPO training iterations")
    parser.add_argument("--env-runners", type=int, default=1, help="RLlib env runners (spread over the cluster)")
    parser.add_argument("--episode-hours", type=int, default=168)
    parser.add_argument("--batch", type=int, default=2048, help="environment steps per iteration")
    parser.add_argument("--eval-seeds", default="0,1,2", help="held-out synthetic seeds")
    parser.add_argument("--ray", default=None, help="a running cluster ('auto' or HOST:PORT); default a local Ray")
    args = parser.parse_args(argv)

    from eglb.agents.offline import EGLBOffline
    from eglb.agents.rollout import rollout
    from eglb.robust.learned import learned_policy
    from eglb.sweeps.ray_map import ray_session
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    seeds = tuple(int(s) for s in args.eval_seeds.split(","))
    config = run_config(args.episode_hours, seeds)
    with ray_session(args.ray):
        register_env("eglb-ppo", make_env_creator(config))
        fragment = max(1, args.batch // max(1, args.env_runners))
        ppo = (
            PPOConfig()
            .environment("eglb-ppo")
            .framework("torch")
            .env_runners(num_env_runners=args.env_runners, rollout_fragment_length=fragment)
            .training(train_batch_size=args.batch, minibatch_size=min(256, args.batch), num_epochs=4, lr=3e-4, gamma=1.0)
        )
        algo = ppo.build_algo()
        try:
            for _ in range(args.iterations):
                algo.train()
            # Residual runs act on top of the expert: learned_policy adds what the env added (as for ppo:FOLDER).
            policy = learned_policy(module_predictor(algo.get_module()), policy_io(config), "rllib-ppo")
        finally:
            algo.stop()
    _, held_out, _ = scenarios_for(config)
    ratios = {"rllib-ppo": [], "eglb": []}
    for scenario in held_out:
        offline = EGLBOffline().solve(scenario).objective
        ratios["rllib-ppo"].append(rollout(policy, scenario).metrics.J / offline)
        ratios["eglb"].append(rollout(eglb.build("eglb"), scenario).metrics.J / offline)
    means = {name: float(np.mean(values)) for name, values in ratios.items()}
    print(
        "mean J / J(eGLB-Off) on held-out synthetic seeds "
        + args.eval_seeds
        + ": "
        + ", ".join(f"{name} {value:.4f}" for name, value in means.items())
    )
    return means


if __name__ == "__main__":
    main()
