"""Shared fixtures: the published data set (../shared or $EGLB2022_DATA), the history folder (../shared or
$EGLB_HISTORY_DATA) and random scenarios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eglb.envs.eglb2022 import default_data_path, load_eglb2022
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def published_path():
    path = default_data_path()
    if not (path / "AI_workload.csv").is_file():
        pytest.skip(f"published data set not found at {path} (set EGLB2022_DATA)")
    return path


@pytest.fixture(scope="session")
def published_full(published_path):
    return load_eglb2022(published_path, "full")


@pytest.fixture(scope="session")
def published_partial(published_path):
    return load_eglb2022(published_path, "partial")


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_cli():
    """Run one of the repository's command-line programs in a subprocess: run_cli("train.py", *args)."""

    def run(script: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True, **kwargs)

    return run


@pytest.fixture(scope="session")
def history_path():
    from eglb.importers.history import is_history_folder
    from eglb.importers.paths import HISTORY_ENV, default_history_path

    path = default_history_path()
    if not is_history_folder(path):
        pytest.skip(f"history folder not found at {path} (set {HISTORY_ENV})")
    return path


@pytest.fixture(scope="session")
def workload_history_path():
    """The history folder with the AI serving traces ($EGLB_HISTORY_DATA or ../shared/data/history)."""
    from eglb.importers.paths import default_history_path

    path = default_history_path()
    if not (path / "workload").is_dir():
        pytest.skip(f"history data with workload traces not found at {path} (set EGLB_HISTORY_DATA)")
    return path


@pytest.fixture(scope="session")
def small_history(tmp_path_factory):
    """A small history folder in the real formats, written once (tests/history_files.py: two zones,
    2021-2022, and a region table of its own)."""
    from history_files import make_history

    return make_history(tmp_path_factory.mktemp("small-history"))


@pytest.fixture
def private_cache(tmp_path_factory, monkeypatch):
    """A parsed-file cache of the test session's own ($EGLB_CACHE), outside the user's."""
    monkeypatch.setenv("EGLB_CACHE", str(tmp_path_factory.getbasetemp() / "parsed-cache"))
