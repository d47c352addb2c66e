"""The shift suite on history zones: default regions by stand-in zone, and evaluate.py --sweep on a history scenario."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.envs.shifts import ShiftSpec, apply_shift
from eglb.importers.synthetic import make_history_synthetic
from history_files import history_args

from eglb.cli import evaluate


@pytest.fixture(scope="module")
def zones():
    return make_history_synthetic(4, hours=96)


def changed_rows(before: np.ndarray, after: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero((before != after).any(axis=1))]


def test_default_regions_are_the_zones_standing_for_the_published_ones(zones):
    index = {name: k for k, name in enumerate(zones.regions)}
    heat = apply_shift(zones, ShiftSpec("heat-wave")).scenario
    assert changed_rows(zones.water, heat.water) == sorted([index["US-TEX-ERCO"], index["US-CAL-CISO"]])
    negative = apply_shift(zones, ShiftSpec("negative-prices")).scenario
    assert changed_rows(zones.price, negative.price) == [index["DE-LU"]]
    outage = apply_shift(zones, ShiftSpec("outage")).scenario
    assert changed_rows(zones.capacity, outage.capacity) == [index["US-MIDA-PJM"]]
    assert (outage.capacity[index["US-MIDA-PJM"], 43:53] == 0).all() and outage.capacity[index["US-MIDA-PJM"], 0] > 0


def test_zones_standing_for_no_published_region_fall_back_to_the_first_ones():
    scenario = make_history_synthetic(4, hours=48, zones="KR,SG")
    heat = apply_shift(scenario, ShiftSpec("heat-wave")).scenario
    assert changed_rows(scenario.water, heat.water) == [0, 1]
    # Named regions still win over the defaults.
    named = apply_shift(scenario, ShiftSpec("heat-wave", {"regions": "SG"})).scenario
    assert changed_rows(scenario.water, named.water) == [1]


def test_the_sweep_runs_on_a_history_scenario(small_history, tmp_path, private_cache, capsys):
    out = tmp_path / "sweep"
    sweep = ["--sweep", "--shifts", "heat-wave,outage,negative-prices", "--severities", "0,1", "--lambdas", "0,1"]
    argv = history_args(small_history, "2022", "0:48") + sweep + ["--algos", "eglb,glb-cost", "--out", str(out), "--no-progress"]
    assert evaluate.main(argv) == 0
    rows = json.loads((out / "sweep.json").read_text())
    assert {(r["shift"], r["severity"]) for r in rows} == {
        (s, v) for s in ("heat-wave", "outage", "negative-prices") for v in (0.0, 1.0)
    }
    assert all(r["ratio_to_offline"] >= 1 - 1e-7 for r in rows)

    # No US-MIDA-PJM here: the outage falls back to the first region (US-TEX-ERCO).
    def cost_J(shift, severity):
        return next(r["J"] for r in rows if r["shift"] == shift and r["severity"] == severity and r["algo"] == "glb-cost")

    assert cost_J("outage", 1.0) != cost_J("outage", 0.0) and cost_J("negative-prices", 1.0) < cost_J("negative-prices", 0.0)
    report = (out / "report.md").read_text()
    assert "history 2022-2022 2 regions" in report and "(all of them)" in report
