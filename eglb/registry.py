"""Algorithm names as users type them, turned into policies and offline solvers.

Grammar of one algorithm spec (``evaluate.py --algos`` takes a comma-separated list of them):

    glb-cost | glb-carbon | glb-water | glb-dist | eglb-off | eglb     classical algorithms
    run-now | always-large | defer-cheapest    the knobs' baselines (deferrable jobs, model choice:
                                        docs/model/flexibility.md); eGLB with one rule replaced
    rhc:w=24,forecaster=seasonal,tail=seasonal | afhc:w=6,...           forecast-driven control (agents/rhc.py;
                                        also rhc(w=24, ...)); keys w, forecaster, base, noise, period, model, tail,
                                        tail_days, tail_model, past, seed (forecaster=market,base=seasonal: published
                                        prices; past=336: the observed hours before the episode);
                                        tail_model=GROUP of train_tail --seeds stands for every seed's tail
    KIND:RUN_FOLDER                     a policy trained by train.py (KIND: the run's algorithm, e.g. ppo, bc);
                                        KIND:GROUP of train.py --seeds stands for every seed's policy (seed_members)
    sb3:ALGO:MODEL.zip[@ENV_ID]         a stable-baselines3 model trained elsewhere on one of our registered
                                        environment ids (default GLB-Synthetic-v0); SB3 zips unpickle
                                        Python objects, so this needs allow_pickle (--allow-pickle)
    py:MODULE:FUNCTION                  your own code: FUNCTION() returns a Policy (agents.base) or a
                                        callable (HourView) -> routing [N, J] MW
    robust(SPEC, lambda=0.1, b=0, slack=const|sqrt|linear, floor=P, expert=SPEC)   the robustification layer
                                        around SPEC, against eGLB or the online policy ``expert`` (write a
                                        controller there as rhc(w=24, forecaster=seasonal))

This module composes the lower layers (classical and learned policies, the layer); nothing below it
knows names.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eglb.agents.base import HourView, OfflineSolver, Policy
from eglb.agents.baselines import Nearest, glb_carbon, glb_cost, glb_water
from eglb.agents.eglb_online import ETA_SCALE
from eglb.agents.knob_policies import EGLBKnobs
from eglb.agents.offline import EGLBOffline
from eglb.envs.errors import InputError
from eglb.envs.validation import MAX_MAGNITUDE, check_fields, check_range, parse_number, parse_settings, typed_arguments
from eglb.robust.knob_layer import KnobRobustPolicy
from eglb.robust.layer import RobustPolicy, Slack
from eglb.training.algorithms import ALGOS

ROBUST_KEYS = ("lambda", "b", "slack", "floor", "expert")
#: Longest time limit accepted for one solve (a year of seconds).
MAX_SECONDS = 365 * 24 * 3600
CONTROLLERS = ("rhc", "afhc")


@dataclass(frozen=True)
class AlgorithmOptions:
    """Settings shared by the algorithms of one evaluation.

    Attributes:
        eta: eGLB step size (None: the default rule). eta_scale: multiplier of the default rule.
        nearest: GLB-Dist's nearest region per gateway, a tuple of names (None: co-located).
        forecast_noise: overrides the forecast noise learned policies see (the noisy-forecast shift).
        allow_pickle: allow loading SB3 zips trained elsewhere (they unpickle, which can run code).
        offline_time_limit: seconds an eGLB-Off solve may take (None: its default, 1800 s).
    """

    eta: float | None = None
    eta_scale: float | None = None
    nearest: tuple[str, ...] | None = None
    forecast_noise: float | None = None
    allow_pickle: bool = False
    offline_time_limit: float | None = None

    def __post_init__(self):
        check_fields(self)
        # Beyond MAX_MAGNITUDE a step size overflows the duals' update (it saturates them long before).
        check_range("AlgorithmOptions.eta (--eta)", self.eta, 0, MAX_MAGNITUDE)
        check_range("AlgorithmOptions.eta_scale (--eta-scale)", self.eta_scale, 0, MAX_MAGNITUDE)
        check_range("AlgorithmOptions.forecast_noise", self.forecast_noise, 0, 10)
        check_range("AlgorithmOptions.offline_time_limit (--time-limit)", self.offline_time_limit, 0, MAX_SECONDS, low_open=True)

    def offline(self) -> EGLBOffline:
        """The hindsight optimum with these settings (also the reference J of every ratio)."""
        return EGLBOffline() if self.offline_time_limit is None else EGLBOffline(time_limit=self.offline_time_limit)


@typed_arguments
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
    # ``rhc:w=24,forecaster=noisy`` keeps its key=value settings (any but the layer's own keys).
    merged: list[str] = []
    for spec in specs:
        key = spec.partition("=")[0].strip()
        if merged and merged[-1].split(":")[0] in CONTROLLERS and "=" in spec and key.isidentifier() and key not in ROBUST_KEYS:
            merged[-1] += "," + spec
        else:
            merged.append(spec)
    return merged


@typed_arguments
def build(spec: str | Policy | OfflineSolver, options: AlgorithmOptions = AlgorithmOptions()) -> Policy | OfflineSolver:
    """The policy or offline solver named by ``spec`` (see the module docstring); a Policy or OfflineSolver
    object is returned as it is (:func:`in_memory`)."""
    if not isinstance(spec, str):
        return in_memory(spec)
    spec = spec.strip()
    if spec.startswith("robust(") and spec.endswith(")"):
        return build_robust(spec, options)
    if spec in _CLASSICAL:
        return _CLASSICAL[spec](options)
    if spec in KNOB_BASELINES:
        return EGLBKnobs(**KNOB_BASELINES[spec], eta=options.eta, eta_scale=_eta_scale(options))
    if re.match(r"^(rhc|afhc)\s*[:(]", spec) or spec in CONTROLLERS:
        from eglb.agents.rhc import controller_from_spec

        return controller_from_spec(spec)
    kind, sep, rest = spec.partition(":")
    if sep and kind == "sb3":
        return _foreign_sb3(spec, rest, options)
    if sep and kind == "py":
        return _python_policy(spec, rest)
    if sep and kind in ALGOS:
        from eglb.robust.learned import load_learned

        card, policy = load_learned(rest, name=spec, forecast_noise=options.forecast_noise)
        if card.algo != kind:
            raise InputError(f"{rest} holds a {card.algo} run, not {kind} (use {card.algo}:{rest})")
        return policy
    if sep:
        raise InputError(
            f"unknown algorithm kind {kind!r} in {spec!r}; expected KIND:RUN_FOLDER (KIND in {', '.join(ALGOS)}), "
            "sb3:ALGO:MODEL.zip or py:MODULE:FUNCTION"
        )
    raise InputError(
        f"unknown algorithm {spec!r}; expected one of {', '.join((*CLASSICAL, *KNOB_BASELINES))}, KIND:RUN_FOLDER (KIND in {', '.join(ALGOS)}), "
        "sb3:ALGO:MODEL.zip, py:MODULE:FUNCTION or robust(SPEC, lambda=...)"
    )


def seed_members(spec: str) -> list[tuple[int | None, str]]:
    """The policies ``spec`` stands for, each with its training seed.

    A run group (``KIND:GROUP``, train.py --seeds; also inside ``robust(...)``) stands for the run of
    each of its seeds; a run folder for itself with its training seed; anything else for itself with
    seed None (an algorithm that is not trained). Results of a group carry the group's spec as their
    name and each member's seed, so that summaries aggregate over the seeds.
    """
    if not isinstance(spec, str):
        return [(None, spec)]
    spec = spec.strip()
    if spec.startswith("robust(") and spec.endswith(")"):
        parts = split_specs(spec[len("robust(") : -1])
        settings = "".join("," + part for part in parts[1:])
        return [(seed, f"robust({inner}{settings})") for seed, inner in seed_members(parts[0])]
    if re.match(r"^(rhc|afhc)\s*[:(]", spec):
        return _tail_seed_members(spec)
    kind, sep, folder = spec.partition(":")
    if not sep or kind not in ALGOS:
        return [(None, spec)]
    from eglb.training.run_folder import read_run_config
    from eglb.training.run_group import is_run_group, member_specs

    if is_run_group(folder):
        return member_specs(kind, folder)
    try:  # the seed is a label of the rows: a run folder loads from its card and weights alone
        return [(read_run_config(folder).seed, spec)]
    except InputError:
        return [(None, spec)]


def _tail_seed_members(spec: str) -> list[tuple[int | None, str]]:
    """A controller whose ``tail_model`` is a tail group (``train_tail --seeds``) stands for the
    controller with each member's tail, labelled with its seed; any other controller for itself."""
    from eglb.forecasts.tail import tail_group

    found = re.search(r"(?:^|[,:(])\s*tail_model\s*=\s*([^,)]+)", spec)
    members = tail_group(found.group(1).strip()) if found else None
    if members is None:
        return [(None, spec)]
    return [(seed, spec[: found.start(1)] + member + spec[found.end(1) :]) for seed, member in members]


def build_robust(spec: str, options: AlgorithmOptions) -> RobustPolicy:
    """``robust(SPEC, lambda=0.1, b=0, slack=const|sqrt|linear, floor=P, expert=SPEC)``: the layer around SPEC,
    against eGLB or the online policy ``expert``."""
    parts = split_specs(spec[len("robust(") : -1])
    inner, settings = parts[0], parse_settings(parts[1:], spec)
    unknown = sorted(set(settings) - set(ROBUST_KEYS))
    if unknown:
        raise InputError(f"{spec}: unknown setting {unknown[0]!r} (settings: {', '.join(ROBUST_KEYS)})")
    # Beyond MAX_MAGNITUDE (the bound on every price and weight) the budget and the shifted prices overflow.
    lam = parse_number(settings.get("lambda", 0.1), f"{spec}: lambda", float, 0, MAX_MAGNITUDE)
    b = parse_number(settings.get("b", 0.0), f"{spec}: b", float, 0, MAX_MAGNITUDE)
    floor = (
        parse_number(settings["floor"], f"{spec}: floor", float, -MAX_MAGNITUDE, MAX_MAGNITUDE) if "floor" in settings else None
    )
    if inner.startswith("robust("):
        raise InputError(f"{spec}: a robust layer inside another is not supported")
    expert = None
    if "expert" in settings:
        if settings["expert"].startswith("robust("):
            raise InputError(f"{spec}: the expert cannot be a robust layer")
        expert = build(settings["expert"], options)
        if not isinstance(expert, Policy):
            raise InputError(f"{spec}: the expert must be an online policy; {settings['expert']!r} is an offline solver")
    return KnobRobustPolicy(
        build(inner, options),
        lam=lam,
        slack=Slack(b, settings.get("slack", "const")),
        price_floor=floor,
        expert=expert,
        name=spec,
    )


def _foreign_sb3(spec: str, rest: str, options: AlgorithmOptions) -> Policy:
    """An SB3 model trained elsewhere on a registered environment id, acting through our environment."""
    from eglb.agents.sb3_policy import load_foreign_zip
    from eglb.training.algorithms import ALGORITHMS
    from eglb.training.envs import VARIANTS

    algo, sep, path = rest.partition(":")
    if not sep or algo not in ALGORITHMS or ALGORITHMS[algo].family != "sb3":
        sb3 = [a for a in ALGOS if ALGORITHMS[a].family == "sb3"]
        raise InputError(f"{spec}: expected sb3:ALGO:MODEL.zip with ALGO in {', '.join(sb3)}")
    path, _, env_id = path.partition("@")
    env_id = env_id or "GLB-Synthetic-v0"
    if env_id not in VARIANTS:
        raise InputError(f"{spec}: unknown environment id {env_id!r} (ready-to-train ids: {', '.join(VARIANTS)})")
    model = load_foreign_zip(ALGORITHMS[algo].cls, Path(path), options.allow_pickle)
    return sb3_policy(model, env_id, spec, options.forecast_noise)


def sb3_policy(model, env_id: str | None = None, name: str | None = None, forecast_noise: float | None = None) -> Policy:
    """A stable-baselines3 model (or its policy) in memory as a Policy: it observes and acts as on the
    registered environment id it was trained on (``env_id``, default: the id of the model's own
    environment). Its current weights act: no save, no reload.

    Args:
        model: an SB3 algorithm (``PPO(...)``, trained or training) or its ``.policy``.
        env_id: the registered id whose observation and action settings the model uses (GLB-Synthetic-v0, ...).
        name: the label in tables (default ``sb3:CLASS``).
        forecast_noise: overrides the forecast noise it sees (the noisy-forecast shift).
    """
    from eglb.agents.learned import PolicyIO, policy_from_predictor
    from eglb.agents.sb3_policy import Sb3Predictor
    from eglb.training.envs import VARIANTS, variant_policy_io

    if env_id is None:
        env = model.get_env() if hasattr(model, "get_env") else None
        specs = env.get_attr("spec") if env is not None else []
        env_id = getattr(specs[0], "id", None) if specs else None
    if env_id not in VARIANTS:
        raise InputError(
            f"cannot tell which environment settings the SB3 model {type(model).__name__} was trained with "
            f"(its environment id is {env_id!r}): give env_id, one of {', '.join(VARIANTS)}"
        )
    io = variant_policy_io(env_id)
    shape = getattr(model, "observation_space", None)
    if shape is not None and shape.shape != (io.observation_size(),):
        raise InputError(f"the SB3 model observes {shape.shape}, but {env_id} gives ({io.observation_size()},)")
    if forecast_noise is not None and not io.forecaster:
        io = PolicyIO(**{**io.__dict__, "forecast_noise": float(forecast_noise)})
    return policy_from_predictor(Sb3Predictor(model), io, name or f"sb3:{type(model).__name__}")


def in_memory(entry) -> Policy | OfflineSolver:
    """An algorithm object given to an evaluation instead of a name: a Policy or OfflineSolver as it is,
    a stable-baselines3 model as :func:`sb3_policy` (on its own environment's id); else a clear error."""
    if isinstance(entry, (Policy, OfflineSolver)):
        return entry
    try:
        from stable_baselines3.common.base_class import BaseAlgorithm
        from stable_baselines3.common.policies import BasePolicy
    except ImportError:  # pragma: no cover - SB3 is a dependency
        BaseAlgorithm = BasePolicy = ()  # noqa: N806
    if isinstance(entry, BaseAlgorithm):
        return sb3_policy(entry)
    if isinstance(entry, BasePolicy):
        raise InputError(
            "an SB3 policy alone does not say its environment: give the model, or eglb.registry.sb3_policy(policy, env_id)"
        )
    raise InputError(
        f"an algorithm must be a spec string, a Policy, an OfflineSolver or a stable-baselines3 model; got {type(entry).__name__}"
    )


def label(entry) -> str:
    """The name of an algorithm in tables: a spec as typed, an object's ``name``."""
    return entry.strip() if isinstance(entry, str) else str(getattr(entry, "name", type(entry).__name__))


class _CallablePolicy(Policy):
    """A user's ``(HourView) -> routing`` function as a Policy."""

    def __init__(self, function: Callable[[HourView], np.ndarray], name: str):
        super().__init__()
        self.function, self.name = function, name

    def act(self, view: HourView) -> np.ndarray:
        return self.function(view)  # the rollout checks it, as every policy's routing


def _python_policy(spec: str, rest: str) -> Policy:
    """``py:MODULE:FUNCTION``: FUNCTION() returns a Policy or a callable (HourView) -> routing."""
    module_name, sep, function_name = rest.partition(":")
    if not sep or not function_name.isidentifier() or not all(part.isidentifier() for part in module_name.split(".")):
        raise InputError(
            f"{spec}: expected py:MODULE:FUNCTION with a dotted module name and a function name (e.g. py:my_policies:make)"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"{spec}: cannot import module {module_name!r}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise InputError(f"{spec}: module {module_name!r} has no function {function_name!r}")
    try:
        inspect.signature(function).bind()
    except TypeError:
        raise InputError(f"{spec}: {function_name}() must take no arguments (it builds the policy)") from None
    except ValueError:
        pass  # a builtin without a signature: calling it says what it needs
    made = function()
    if isinstance(made, Policy):
        made.name = spec
        return made
    if callable(made):
        return _CallablePolicy(made, spec)
    raise InputError(
        f"{spec}: {function_name}() returned {type(made).__name__}; expected a Policy or a callable (HourView) -> routing"
    )


_CLASSICAL = {
    "glb-cost": lambda options: glb_cost(),
    "glb-carbon": lambda options: glb_carbon(),
    "glb-water": lambda options: glb_water(),
    "glb-dist": lambda options: Nearest(options.nearest),
    "eglb-off": lambda options: options.offline(),
    # eGLB with a dual per long-term constraint; on a scenario without knobs it is EGLBOnline exactly.
    "eglb": lambda options: EGLBKnobs(eta=options.eta, eta_scale=_eta_scale(options)),
}
CLASSICAL = tuple(_CLASSICAL)

#: The knobs' baselines: eGLB with its job or model rule replaced (agents/knob_policies.py).
KNOB_BASELINES = {
    "run-now": {"jobs": "now"},
    "always-large": {"models": "large"},
    "defer-cheapest": {"jobs": "cheapest-hours"},
}


def _eta_scale(options: AlgorithmOptions) -> float:
    return ETA_SCALE if options.eta_scale is None else options.eta_scale


def default_ml(specs: list[str]) -> str:
    """The ML policy of a trade-off: the first learned or robust-wrapped spec, else glb-cost."""
    for spec in (s for s in specs if isinstance(s, str)):
        if spec.startswith("robust("):
            return split_specs(spec[len("robust(") : -1])[0]
        if ":" in spec:
            return spec
    return "glb-cost"
