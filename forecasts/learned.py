"""A learned forecaster: a small network that maps a series' last week to its next hours.

One model serves every series of every scenario (any regions, any gateways): each input series (a
region's price, carbon or water intensity, or a gateway's workload) is forecast on its own from

* its last ``history_hours`` values up to hour t, shifted by their last-day mean m and divided by
  their mean absolute deviation s (plus 1e-3 of their mean magnitude, so flat series stay finite),
* the hour of day of t (sine and cosine), and which signal it is (one-hot of 4),

and the network (a multilayer perceptron) outputs the next ``horizon`` values in the same units,
turned back by ``m + s * output``. Trained with an L1 loss (robust to price spikes) on windows cut
from any list of scenarios: synthetic traces now, real history later. Leads beyond ``horizon`` repeat
the last predicted day. Intensities and workloads are clipped at 0. Scenarios shorter than the
history window are padded by repeating their first day (same hour of day), so the forecaster also
answers in an episode's first week; built with ``past=P`` it reads the P observed hours before hour 0
first (:mod:`eglb.envs.past`), and pads only what lies before them.

A trained forecaster is a folder: ``forecaster.json`` (format name and version, the configuration and
what it was trained on) and ``weights.pt`` (the network's tensors, loaded with
``torch.load(weights_only=True)``: no pickled code). Loading checks the format version.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write, atomic_write_json, load_tensors, read_json
from eglb.envs.forecast import Forecaster, check_past, earliest_hour, input_rows, n_signals
from eglb.envs.limits import (
    MAX_ELEMENTS,
    MAX_ROWS,
    MAX_WINDOW_HOURS,
    check_parameters,
    check_size,
    check_widths,
    mlp_parameters,
)
from eglb.envs.scenario import Scenario
from torch import nn

FORMAT = "eglb-learned-forecaster"
FORMAT_VERSION = 1
CONFIG_FILE = "forecaster.json"
WEIGHTS_FILE = "weights.pt"


@dataclass(frozen=True)
class LearnedForecasterConfig:
    """Architecture and training settings.

    Attributes:
        history_hours: hours of history the network reads (ending at the current hour).
        horizon: leads it predicts directly (longer requests repeat the last predicted day).
        hidden: widths of the hidden layers.
        steps: optimizer steps (Adam). batch_size: windows per step. learning_rate: Adam's step.
        max_samples: windows (one series at one hour) cut from the training scenarios, at most.
        seed: seeds the window sampling and the network's initial weights.
    """

    history_hours: int = 168
    horizon: int = 72
    hidden: tuple[int, ...] = (128, 128)
    steps: int = 2000
    batch_size: int = 512
    learning_rate: float = 1e-3
    max_samples: int = 200_000
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", check_widths(self.hidden, "learned forecaster: hidden"))
        for name, high in (
            ("history_hours", MAX_WINDOW_HOURS),
            ("horizon", MAX_WINDOW_HOURS),
            ("steps", MAX_ROWS),
            ("batch_size", MAX_ROWS),
            ("max_samples", MAX_ROWS),
            ("seed", 2**32 - 1),
        ):
            object.__setattr__(
                self, name, check_size(getattr(self, name), f"learned forecaster: {name}", high, low=0 if name == "seed" else 1)
            )
        check_parameters(mlp_parameters((self.n_features, *self.hidden, self.horizon)), "the learned forecaster's network")
        if self.max_samples * self.n_features > MAX_ELEMENTS:
            raise InputError(
                f"learned forecaster: max_samples {self.max_samples:,} windows of {self.n_features} features exceed "
                f"{MAX_ELEMENTS:,} numbers"
            )
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not np.isfinite(rate) or rate <= 0:
            raise InputError(f"learned forecaster: learning_rate must be a finite number > 0, got {rate!r}")

    @property
    def n_features(self) -> int:
        return self.history_hours + 2 + 4


def _network(config: LearnedForecasterConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = config.n_features
    for hidden in config.hidden:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, config.horizon))
    return nn.Sequential(*layers)


def _signal_codes(scenario: Scenario) -> np.ndarray:
    """[3N + J, 4] one-hot signal of every series."""
    n, j = scenario.n_regions, scenario.n_gateways
    return np.eye(4)[np.repeat(np.arange(4), [n, n, n, j])]


def _features(scenario: Scenario, hours: np.ndarray, history_hours: int, earliest: int = 0):
    """Inputs of the forecasts made at ``hours`` [B] for every series, from hours ``earliest`` .. each of them.

    Returns (features float32 [B, S, F], level m [B, S], spread s [B, S]) with S = 3N + J series.
    """
    lag = np.arange(1 - history_hours, 1)
    source = hours[:, None] + lag[None, :]  # [B, L]
    # Before the first readable hour: the same hour of day in its first day (never after the current hour).
    source = np.where(source < earliest, np.minimum(earliest + (source - earliest) % 24, hours[:, None]), source)
    first = int(source.min())
    rows = input_rows(scenario, first, int(hours.max()) + 1)
    history = rows[source - first]  # [B, L, S]
    level = history[:, -24:].mean(axis=1)  # [B, S]
    spread = np.abs(history - level[:, None]).mean(axis=1) + 1e-3 * np.abs(history).mean(axis=1) + 1e-9
    normalized = ((history - level[:, None]) / spread[:, None]).transpose(0, 2, 1)  # [B, S, L]
    phase = scenario.timestamps[hours].astype("datetime64[h]").astype(np.int64) % 24 * (2 * np.pi / 24)
    clock = np.broadcast_to(np.stack([np.sin(phase), np.cos(phase)], axis=1)[:, None, :], (len(hours), rows.shape[1], 2))
    codes = np.broadcast_to(_signal_codes(scenario)[None], (len(hours), rows.shape[1], 4))
    features = np.concatenate([normalized, clock, codes], axis=2).astype(np.float32)
    return features, level, spread


class LearnedForecaster(Forecaster):
    """Forecasts with a trained network (see the module docstring); build with
    :func:`train_learned_forecaster` or :func:`load_learned_forecaster`.

    Attributes:
        config: the architecture and training settings. network: the torch module (eval mode).
        training: what it was trained on (scenario names, hours, final loss, seconds).
        past: hours of the scenario's observed past it reads (0: none; :mod:`eglb.envs.past`).
    """

    name = "learned"

    def __init__(self, network: nn.Module, config: LearnedForecasterConfig, training: dict | None = None, past: int = 0):
        self.network = network.eval()
        self.config = config
        self.training = dict(training or {})
        self.past = check_past(past, "learned forecaster")

    def predict(self, scenario, t, horizon, rng=None):
        return self.predict_episode(scenario, t, 1, horizon, rng)[0]

    def predict_episode(self, scenario, start, hours, horizon, rng=None, chunk: int = 256):
        out = np.empty((hours, horizon, n_signals(scenario)))
        if horizon == 0:
            return out
        nonnegative = _signal_codes(scenario)[:, 0] == 0  # every signal but price
        earliest = earliest_hour(scenario, self.past, "the learned forecaster")
        for begin in range(0, hours, chunk):
            at = start + np.arange(begin, min(hours, begin + chunk))
            features, level, spread = _features(scenario, at, self.config.history_hours, earliest)
            with torch.no_grad():
                output = self.network(torch.from_numpy(features)).numpy().astype(float)  # [B, S, H0]
            values = level[:, :, None] + spread[:, :, None] * output
            values[:, nonnegative] = np.maximum(values[:, nonnegative], 0.0)
            out[begin : begin + len(at)] = values.transpose(0, 2, 1)[:, _lead_columns(horizon, self.config.horizon)]
        return out

    def save(self, folder: str | Path) -> Path:
        """Write ``forecaster.json`` and ``weights.pt`` into ``folder`` (atomically, file by file)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {key: value.detach().clone() for key, value in self.network.state_dict().items()}
        atomic_write(folder / WEIGHTS_FILE, lambda path: torch.save(state, path))
        config = asdict(self.config)
        config["hidden"] = list(self.config.hidden)
        atomic_write_json(
            folder / CONFIG_FILE,
            {"format": FORMAT, "format_version": FORMAT_VERSION, "config": config, "training": self.training},
        )
        return folder


def _lead_columns(horizon: int, trained: int) -> np.ndarray:
    """Which predicted lead (0-based column) answers each requested lead; beyond ``trained`` the last
    predicted day repeats."""
    lead = np.arange(horizon)
    if horizon <= trained:
        return lead
    day = min(24, trained)
    beyond = trained - day + (lead - trained) % day
    return np.where(lead < trained, lead, beyond)


def training_windows(scenarios: Sequence[Scenario], config: LearnedForecasterConfig, rng: np.random.Generator):
    """Inputs and targets cut from ``scenarios``: (features float32 [M, F], targets float32 [M, horizon]).

    Every window has a full history and a full target; each scenario contributes up to an equal share
    of ``max_samples`` windows, drawn at random hours.
    """
    inputs, targets = [], []
    share = max(1, config.max_samples // max(1, len(scenarios)))
    for scenario in scenarios:
        first, last = config.history_hours - 1, scenario.n_hours - 1 - config.horizon
        if last < first:
            raise InputError(
                f"training scenario {scenario.name!r} has {scenario.n_hours} hours; the learned forecaster needs at "
                f"least history_hours + horizon = {config.history_hours + config.horizon}"
            )
        series = n_signals(scenario)
        count = min(last - first + 1, max(1, share // series))
        hours = np.sort(rng.choice(np.arange(first, last + 1), size=count, replace=False))
        features, level, spread = _features(scenario, hours, config.history_hours)
        future = input_rows(scenario, 0, scenario.n_hours)[hours[:, None] + np.arange(1, config.horizon + 1)[None, :]]
        target = (future.transpose(0, 2, 1) - level[:, :, None]) / spread[:, :, None]  # [B, S, H]
        inputs.append(features.reshape(-1, config.n_features))
        targets.append(target.reshape(-1, config.horizon).astype(np.float32))
    return np.concatenate(inputs), np.concatenate(targets)


def train_learned_forecaster(
    scenarios: Sequence[Scenario], config: LearnedForecasterConfig = LearnedForecasterConfig(), progress: bool = False
) -> LearnedForecaster:
    """Train a forecaster on windows of ``scenarios`` (any shapes; synthetic or real history)."""
    if not scenarios:
        raise InputError("the learned forecaster needs at least one training scenario")
    begin = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    inputs, targets = training_windows(scenarios, config, rng)
    inputs, targets = torch.from_numpy(inputs), torch.from_numpy(targets)
    network = _network(config)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps)
    generator = torch.Generator().manual_seed(config.seed)
    recent = []
    for step in range(config.steps):
        batch = torch.randint(0, inputs.shape[0], (config.batch_size,), generator=generator)
        loss = (network(inputs[batch]) - targets[batch]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        recent = (recent + [loss.item()])[-100:]
        if progress and (step + 1) % 500 == 0:
            print(f"learned forecaster: step {step + 1}/{config.steps}, L1 loss {np.mean(recent):.4f}", flush=True)
    training = {
        "scenarios": [s.name for s in scenarios],
        "hours": [s.n_hours for s in scenarios],
        "windows": int(inputs.shape[0]),
        "final_loss": float(np.mean(recent)),
        "seconds": round(time.perf_counter() - begin, 2),
    }
    return LearnedForecaster(network, config, training)


def load_learned_forecaster(folder: str | Path, past: int = 0) -> LearnedForecaster:
    """The forecaster saved in ``folder`` by :meth:`LearnedForecaster.save` (format version, sizes and
    weights checked before the network is built; no code in the folder runs), reading ``past`` hours of
    a scenario's observed past."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise InputError(f"{folder} holds no learned forecaster: {CONFIG_FILE} not found")
    document = read_json(path, "forecaster configuration")
    if document.get("format") != FORMAT:
        raise InputError(f'file {path}: expected "format": "{FORMAT}"')
    if document.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"file {path}: format_version {document.get('format_version')!r} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    known = {f.name for f in fields(LearnedForecasterConfig)}
    settings = document.get("config")
    if not isinstance(settings, dict) or set(settings) - known:
        raise InputError(f'file {path}: "config" must be an object with keys among {", ".join(sorted(known))}')
    try:
        config = LearnedForecasterConfig(**settings)
    except InputError as exc:
        raise InputError(f"file {path}: {exc}") from None
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise InputError(f"{folder}: {WEIGHTS_FILE} not found")
    state = load_tensors(weights, "forecaster weights")
    network = _network(config)
    try:
        network.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, AttributeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"file {weights}: the weights do not fit the configuration in {CONFIG_FILE}: {message}") from None
    training = document.get("training")
    return LearnedForecaster(network, config, training if isinstance(training, dict) else {}, past)
