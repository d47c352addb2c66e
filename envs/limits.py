"""Bounds on every size read from a file or a flag, checked before anything is allocated.

A policy card, a forecaster's configuration, a run's config.yaml or a ``--set`` can hold any number:
a layer width of 10**10 or a history of 10**9 hours would ask torch or numpy for terabytes, and a
negative one fails deep inside them. Every such size goes through :func:`check_size` (one number),
:func:`check_widths` (the hidden layers of a network) and :func:`check_parameters` (a whole
network's parameter count) first, so the user gets one line naming the file or flag instead.

The bounds are far above anything this project trains (its networks have below a million parameters,
its histories a week) and far below what a machine cannot allocate.
"""

from __future__ import annotations

from collections.abc import Sequence

from eglb.envs.errors import InputError

#: Widest hidden layer of any network (a 16384 x 16384 float32 layer is 1 GiB).
MAX_LAYER_WIDTH = 16_384
#: Most hidden layers of any network.
MAX_LAYERS = 64
#: Most parameters of a whole network (256 Mi float32 numbers, 1 GiB).
MAX_PARAMETERS = 2**28
#: Most regions and gateways of a scenario a policy is built for.
MAX_REGIONS = 4_096
MAX_GATEWAYS = 65_536
#: Most job slots of an environment with deferrable jobs (each adds 7 observation entries) and most
#: models of a model choice a policy acts on (envs/flex_env.py).
MAX_JOB_SLOTS = 100_000
MAX_MODELS = 1_024
#: Longest observation vector of a policy (entries).
MAX_OBSERVATION = 2**22
#: Longest history or horizon a forecaster reads or predicts (hours: one leap year).
MAX_WINDOW_HOURS = 8_784
#: Most environment steps (hours) of a training run.
MAX_STEPS = 10**10
#: Most rows of a training array (labels, replay buffer, windows) and most entries of one array.
MAX_ROWS = 10**8
MAX_ELEMENTS = 2**31


def check_size(value: object, name: str, high: int, low: int = 1) -> int:
    """``value`` as an int when it is a whole number in [low, high] (a bool is not), else InputError naming ``name``."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        whole, value = True, int(value)
    if not whole or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return int(value)


def check_widths(widths: object, name: str) -> tuple[int, ...]:
    """Hidden layer widths: a non-empty list of at most MAX_LAYERS whole numbers in 1..MAX_LAYER_WIDTH."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
        raise InputError(f"{name} must list the widths of the hidden layers, got {widths!r}")
    if len(widths) > MAX_LAYERS:
        raise InputError(f"{name} lists {len(widths)} hidden layers; at most {MAX_LAYERS}")
    return tuple(check_size(w, f"{name}[{k}]", MAX_LAYER_WIDTH) for k, w in enumerate(widths))


def mlp_parameters(sizes: Sequence[int]) -> int:
    """Weights and biases of a chain of dense layers of these sizes (input, hidden..., output)."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def check_parameters(count: int, name: str) -> None:
    """Refuse a network of more than MAX_PARAMETERS parameters before it is built."""
    if count > MAX_PARAMETERS:
        raise InputError(f"{name} would have {count:,} parameters; at most {MAX_PARAMETERS:,} are allowed")
