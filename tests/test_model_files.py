"""Model, forecaster and checkpoint files end in one clear line, never in a traceback or a huge allocation
(issue 17, cause 5): random, empty or pickled weights; binary, deeply nested or non-standard JSON; sizes
that are huge or negative in a file or a flag. Every size is bounded before anything is allocated."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from eglb.envs.errors import InputError
from eglb.envs.files import MAX_JSON_BYTES, MAX_JSON_DEPTH, load_arrays, load_tensors, read_json, read_yaml
from eglb.envs.limits import MAX_LAYER_WIDTH, MAX_PARAMETERS, check_size, check_widths
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts.learned import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    LearnedForecasterConfig,
    load_learned_forecaster,
    train_learned_forecaster,
)
from eglb.robust.learned import load_learned
from test_learning import short_run

from eglb.cli import train

TINY = LearnedForecasterConfig(history_hours=48, horizon=12, hidden=(16,), steps=3, batch_size=16, max_samples=500)


class _Payload:
    """Unpickling this creates a file: proof that a loader executed code from the data."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def torch_bytes(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory) -> Path:
    return train_learned_forecaster([make_synthetic(1000, hours=100)], TINY).save(tmp_path_factory.mktemp("fc") / "fc")


@pytest.fixture
def fc(forecaster, tmp_path) -> Path:
    return Path(shutil.copytree(forecaster, tmp_path / "fc"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    return short_run(tmp_path_factory.mktemp("trained"), "bc", 24)


@pytest.fixture
def run(trained, tmp_path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


# ------------------------------------------------------------------------------------ weights files
def bad_weights(marker: Path) -> dict[str, bytes]:
    return {
        "random": np.random.default_rng(0).bytes(4096),
        "empty": b"",
        "pickled": pickle.dumps({"layers.0.weight": _Payload(marker)}),
        "torch-pickled": torch_bytes({"layers.0.weight": _Payload(marker)}),
        "truncated": torch_bytes({"w": torch.zeros(100)})[:200],
        "a zip of junk": b"PK\x03\x04" + bytes(300),
        "nan": torch_bytes({"0.weight": torch.full((16, 54), float("nan"))}),
        "a list": torch_bytes([1, 2, 3]),
    }


@pytest.mark.parametrize("kind", list(bad_weights(Path("x"))))
def test_bad_forecaster_weights_are_one_line_and_run_no_code(fc, tmp_path, kind, run_cli):
    marker = tmp_path / "pwned"
    (fc / WEIGHTS_FILE).write_bytes(bad_weights(marker)[kind])
    with pytest.raises(InputError, match=r"weights.pt") as error:
        load_learned_forecaster(fc)
    message = str(error.value)
    assert "\n" not in message and "weights_only" not in message and "trust" not in message, message
    assert not marker.exists()
    if kind == "torch-pickled":  # the same through a command line: one line, exit 2, no advice to unpickle
        done = run_cli(
            "evaluate.py", "--synthetic-hours", "24", "--algos", f"rhc:w=4,forecaster=learned,model={fc}", "--no-progress"
        )
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "weights_only" not in done.stderr and "refused" in done.stderr


@pytest.mark.parametrize("kind", ["random", "empty", "torch-pickled", "truncated", "a list"])
def test_bad_policy_weights_are_one_line(run, tmp_path, kind):
    marker = tmp_path / "pwned"
    (run / "best_policy.pt").write_bytes(bad_weights(marker)[kind])
    with pytest.raises(InputError, match=r"best_policy.pt") as error:
        load_learned(run)
    assert "weights_only" not in str(error.value) and not marker.exists()


# ------------------------------------------------------------------------------------ JSON files
HOSTILE_JSON = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "is not valid JSON: it is not UTF-8 text"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, f"nested more than {MAX_JSON_DEPTH} levels deep"),
    "deep object": (b'{"a":' * 40 + b"1" + b"}" * 40, f"nested more than {MAX_JSON_DEPTH} levels deep"),
    "a list": (b"[1, 2, 3]", "expected a mapping (key: value pairs) at the top, got list"),
    "NaN": (b'{"a": NaN}', "NaN is not a number JSON allows"),
    "Infinity": (b'{"a": -Infinity}', "-Infinity is not a number JSON allows"),
    "1e400": (b'{"a": 1e400}', "the number 1e400 is beyond the range of a float"),
    "10**400": (b'{"a": 1' + b"0" * 400 + b"}", "an integer of 401 digits"),
    "truncated": (b'{"format": "eglb', "is not valid JSON: line 1, column 12: Unterminated string"),
    "empty": (b"", "is not valid JSON: line 1, column 1"),
}


@pytest.mark.parametrize("kind", list(HOSTILE_JSON))
def test_hostile_json_files_are_one_line(tmp_path, kind):
    data, message = HOSTILE_JSON[kind]
    (tmp_path / "f.json").write_bytes(data)
    with pytest.raises(InputError, match="f.json") as error:
        read_json(tmp_path / "f.json")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_device_or_folder_is_not_a_json_file(tmp_path):
    with pytest.raises(InputError, match="is not a regular file"):
        read_json(Path("/dev/zero"))  # would never end
    with pytest.raises(InputError, match="is a folder, not a file"):
        read_json(tmp_path)
    (tmp_path / "bom.json").write_bytes(b'\xef\xbb\xbf{"a": 1}')  # saved by an editor with a byte-order mark
    assert read_json(tmp_path / "bom.json") == {"a": 1}


def test_an_oversized_json_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_JSON_BYTES + 1)  # sparse: nothing is really written
    with pytest.raises(InputError, match=f"is {MAX_JSON_BYTES + 1:,} bytes; a JSON file is at most"):
        read_json(path)


@pytest.mark.parametrize("kind", ["binary", "deep", "NaN", "10**400", "a list"])
def test_hostile_policy_cards_and_forecaster_configurations_are_one_line(run, fc, kind, run_cli):
    data, message = HOSTILE_JSON[kind]
    (run / "policy.json").write_bytes(data)
    with pytest.raises(InputError, match="policy.json") as error:
        load_learned(run)
    assert message in str(error.value)
    (fc / CONFIG_FILE).write_bytes(data)
    with pytest.raises(InputError, match="forecaster.json") as error:
        load_learned_forecaster(fc)
    assert message in str(error.value)
    if kind == "deep":
        done = run_cli("evaluate.py", "--synthetic-hours", "24", "--algos", f"bc:{run}", "--no-progress")
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and message in done.stderr


def test_hostile_checkpoint_files_are_one_line_on_resume(run):
    info = next(run.glob("checkpoint-*/checkpoint.json"))
    info.write_bytes(HOSTILE_JSON["deep"][0])
    with pytest.raises(InputError, match="checkpoint.json is nested more than"):
        train.main(["--resume", str(run), "--no-progress"])
    info.write_text(json.dumps({"format": "eglb-checkpoint", "format_version": 1, "steps": -5}))
    with pytest.raises(InputError, match="checkpoint.json: steps must be a whole number from 0"):
        train.main(["--resume", str(run), "--no-progress"])


def test_hostile_run_configurations_are_one_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("a: &x [1, 2]\nb: *x\n")
    with pytest.raises(InputError, match="aliases"):
        read_yaml(path)
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError, match="nested more than"):
        read_yaml(path)
    path.write_bytes(b"\xff\xfe\x00 not yaml")
    with pytest.raises(InputError, match="is not valid YAML: it is not UTF-8"):
        read_yaml(path)
    path.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="expected a mapping"):
        read_yaml(path)


# ------------------------------------------------------------------------------------ sizes
def edit_forecaster(fc: Path, **config) -> None:
    document = json.loads((fc / CONFIG_FILE).read_text())
    document["config"].update(config)
    (fc / CONFIG_FILE).write_text(json.dumps(document))


@pytest.mark.parametrize(
    "config, message",
    [
        ({"hidden": [10_000_000_000]}, "hidden[0] must be a whole number from 1 to 16,384"),
        ({"hidden": [-5]}, "hidden[0] must be a whole number from 1 to 16,384, got -5"),
        ({"hidden": [16] * 100}, "lists 100 hidden layers; at most 64"),
        ({"hidden": "16"}, "hidden must list the widths of the hidden layers"),
        ({"hidden": [16384, 16384, 16384, 16384, 16384]}, f"parameters; at most {MAX_PARAMETERS:,}"),
        ({"history_hours": 10**9}, "history_hours must be a whole number from 1 to 8,784"),
        ({"history_hours": -1}, "history_hours must be a whole number from 1 to 8,784, got -1"),
        ({"history_hours": 1e300}, "history_hours must be a whole number from 1 to 8,784"),
        ({"horizon": 0}, "horizon must be a whole number from 1 to 8,784, got 0"),
        ({"horizon": True}, "horizon must be a whole number from 1 to 8,784, got True"),
        ({"max_samples": 10**12}, "max_samples must be a whole number from 1 to 100,000,000"),
        ({"learning_rate": "fast"}, "learning_rate must be a finite number > 0"),
    ],
)
def test_forecaster_sizes_are_bounded_before_anything_is_built(fc, config, message):
    edit_forecaster(fc, **config)
    with pytest.raises(InputError, match="forecaster.json") as error:
        load_learned_forecaster(fc)
    assert message in str(error.value)


def edit_card(run: Path, change) -> None:
    card = json.loads((run / "policy.json").read_text())
    change(card)
    (run / "policy.json").write_text(json.dumps(card))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["network"].update(hidden=[10_000_000_000]), "network.hidden[0] must be a whole number from 1 to 16,384"),
        (lambda c: c["network"].update(hidden=[-3]), "network.hidden[0] must be a whole number from 1 to 16,384, got -3"),
        (lambda c: c["network"].update(hidden=[16384] * 8), "parameters; at most"),
        (lambda c: c["network"].update(n_regions=10**7), "acts on the dual prices of io.shape[0] = 10 regions"),
        (lambda c: c["io"].update(shape=[10**7, 10]), "io.shape[0] (regions) must be a whole number from 1 to 4,096"),
        (lambda c: c["io"].update(shape=[10, -1]), "io.shape[1] (gateways) must be a whole number from 1 to 65,536, got -1"),
        (lambda c: c["io"].update(shape=[10]), "io.shape must be [regions, gateways]"),
        (lambda c: c["io"].update(forecast_hours=10**9), "io.forecast_hours must be a whole number from 0 to 168"),
        (lambda c: c["network"].update(observation_size=10**12), "network.observation_size must be a whole number from 1"),
        (
            lambda c: c["network"].update(kind="sb3", action={"size": 20}, policy_kwargs={"net_arch": [10**10]}),
            "net_arch[0] must be a whole number",
        ),
        (
            lambda c: c["network"].update(
                kind="sb3", action={"size": 20}, policy="MlpLstmPolicy", policy_kwargs={"lstm_hidden_size": 10**9}
            ),
            "lstm_hidden_size must be a whole number from 1 to 16,384",
        ),
        (lambda c: c["network"].update(kind="sb3", action={"size": 10**9}), "network.action must be a box of 20 entries"),
        (lambda c: c["network"].update(kind="pickle"), "unknown network kind 'pickle'"),
    ],
)
def test_policy_card_sizes_are_bounded_before_anything_is_built(run, change, message):
    edit_card(run, change)
    with pytest.raises(InputError, match="policy.json is not a valid policy card") as error:
        load_learned(run)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "setting, message",
    [
        ("model.hidden=[10000000000]", "model.hidden[0] must be a whole number from 1 to 16,384, got 10000000000"),
        ("model.hidden=[]", "model.hidden must list the widths of the hidden layers"),
        ("model.workers=100000", "model.workers must be <= 256"),
        ("model.batch_size=1e12", "model.batch_size must be"),
    ],
)
def test_bc_sizes_from_flags_are_bounded(tmp_path, setting, message, run_cli):
    done = run_cli("train.py", "--algo", "bc", "--synthetic", "--out", str(tmp_path), "--set", setting, "--no-progress")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "algo, setting, message",
    [
        ("ppo", "model.policy_kwargs.net_arch=[10000000000]", "net_arch[0] must be a whole number from 1 to 16,384"),
        ("recurrent-ppo", "model.policy_kwargs.lstm_hidden_size=1000000000", "lstm_hidden_size must be a whole number"),
        ("sac", "model.policy_kwargs.n_critics=100000", "n_critics must be a whole number from 1 to 16"),
        ("sac", "model.buffer_size=1000000000000", "model.buffer_size must be <= 1e+08"),
        ("ppo", "model.n_steps=1000000000", "model.n_steps must be <= 1e+08"),
    ],
)
def test_sb3_sizes_from_flags_are_bounded(tmp_path, algo, setting, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("+", r"\+")):
        train.main(["--algo", algo, "--synthetic", "--out", str(tmp_path), "--set", setting, "--no-progress"])
    assert not list(tmp_path.iterdir())


def test_a_buffer_too_large_for_the_observation_is_refused_before_it_is_allocated(tmp_path):
    """Each bound alone may pass while their product (steps x observation entries) is terabytes."""
    with pytest.raises(InputError, match=r"a buffer of 90,000,000 steps of these observations holds"):
        train.main(
            ["--algo", "sac", "--synthetic", "--out", str(tmp_path), "--set", "model.buffer_size=90000000", "--no-progress"]
        )


def test_size_helpers():
    assert check_size(5.0, "x", 10) == 5 and check_widths([3, 4.0], "h") == (3, 4)
    for value in (True, 0, 11, 2.5, "5", None, float("nan"), float("inf")):
        with pytest.raises(InputError, match="x must be a whole number from 1 to 10"):
            check_size(value, "x", 10)
    with pytest.raises(InputError, match=f"h\\[0\\] must be a whole number from 1 to {MAX_LAYER_WIDTH:,}"):
        check_widths([MAX_LAYER_WIDTH + 1], "h")


# ------------------------------------------------------------------------------------ arrays
def test_array_files_are_checked_from_their_headers_before_loading(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, observations=np.zeros((4, 3), np.float32), labels=np.zeros((4, 2)))
    shapes = {"observations": (None, 3), "labels": (None, 2)}
    assert load_arrays(path, "data", shapes, 100)["labels"].shape == (4, 2)
    with pytest.raises(
        InputError, match=r"array 'observations' is float32 of shape \(4, 3\), expected numbers of shape \(any, 5\)"
    ):
        load_arrays(path, "data", {"observations": (None, 5)}, 100)
    with pytest.raises(InputError, match="at most 10 entries"):
        load_arrays(path, "data", shapes, 10)
    with pytest.raises(InputError, match="it has no array 'rewards'"):
        load_arrays(path, "data", {"rewards": (None,)}, 100)
    # A header that claims 10**12 rows (terabytes) while the file holds four: refused before allocating.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 3)})
    fake = tmp_path / "fake.npz"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("observations.npy", header.getvalue() + bytes(48))
    with pytest.raises(InputError, match="array 'observations' is truncated"):
        load_arrays(fake, "data", {"observations": (None, 3)}, 10**13)
    np.savez(path, observations=np.array([[1.0, np.inf, 0]]))
    with pytest.raises(InputError, match=r"array 'observations' holds NaN or infinite values \(row 0\)"):
        load_arrays(path, "data", {"observations": (None, 3)}, 100)
    np.savez(path, observations=np.array([["a", "b", "c"]]))
    with pytest.raises(InputError, match="expected numbers"):
        load_arrays(path, "data", {"observations": (None, 3)}, 100)
    path.write_bytes(os.urandom(100))
    with pytest.raises(InputError, match="not a readable .npz file"):
        load_arrays(path, "data", shapes, 100)


def test_a_dataset_header_claiming_terabytes_is_refused_on_resume(run):
    dataset = next(run.glob("checkpoint-*/dataset.npz"))
    with np.load(dataset) as data:
        size = data["observations"].shape[1]
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**11, size)})
    with zipfile.ZipFile(dataset, "w") as archive:
        archive.writestr("observations.npy", header.getvalue() + bytes(64))
        archive.writestr("labels.npy", header.getvalue())
    with pytest.raises(InputError, match="dataset.npz: array 'observations' is truncated"):
        train.main(["--resume", str(run), "--timesteps", "48", "--no-progress"])


def test_tensor_files_bound_their_size(tmp_path, monkeypatch):
    import eglb.envs.files as files

    path = tmp_path / "w.pt"
    path.write_bytes(torch_bytes({"w": torch.zeros(10)}))
    assert load_tensors(path)["w"].shape == (10,)
    monkeypatch.setattr(files, "MAX_TENSOR_FILE_BYTES", 100)
    with pytest.raises(InputError, match="above the limit of 100"):
        load_tensors(path)


# ------------------------------------------------------------------------------------ learned tails
def test_hostile_tail_files_are_one_line(tmp_path):
    from eglb.forecasts.tail import CONFIG_FILE as TAIL_FILE
    from eglb.forecasts.tail import PROFILE_FILE, fit_profile_tail, load_tail

    folder = fit_profile_tail([make_synthetic(1000, hours=100)], seed=0).save(tmp_path / "tail")
    document = json.loads((folder / TAIL_FILE).read_text())
    for data, message in (HOSTILE_JSON["deep"], HOSTILE_JSON["NaN"], HOSTILE_JSON["binary"]):
        (folder / TAIL_FILE).write_bytes(data)
        with pytest.raises(InputError, match="tail.json") as error:
            load_tail(folder)
        assert message in str(error.value)
    for key, value in (("level_hours", 10**12), ("blend_hours", -1)):
        (folder / TAIL_FILE).write_text(json.dumps({**document, key: value}))
        with pytest.raises(InputError, match=f"tail.json: {key} must be a whole number from 1 to 8,784"):
            load_tail(folder)
    (folder / TAIL_FILE).write_text(json.dumps(document))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (12, 24, 10**9)})
    with zipfile.ZipFile(folder / PROFILE_FILE, "w") as archive:
        archive.writestr("shape.npy", header.getvalue())
    with pytest.raises(InputError, match="profile.npz: array 'shape' is truncated"):
        load_tail(folder)
