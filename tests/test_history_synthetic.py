"""The history-calibrated synthetic generator (importers/synthetic.py) and its calibration file.

The generator reads only the committed figures, so most tests need no data; the last ones compare
with the real history (../shared/data/history or $EGLB_HISTORY_DATA) and skip when it is absent.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from eglb.envs.errors import InputError
from eglb.envs.synthetic import HELD_OUT_SEEDS
from eglb.importers.history import CAPACITY_HEADROOM
from eglb.importers.synthetic import HistorySyntheticSource, calibration, make_history_synthetic, mean_yearly_peak
from eglb.importers.synthetic_calibration import (
    CALIBRATION_FILE,
    PROBABILITIES,
    calendar,
    calibration_scenario,
    decompose,
    load_calibration,
    measure,
    monthly_level,
    normal_scores,
)
from history_files import TINY_BC, history_args
from scipy.special import ndtri

from eglb.benchmark import trained_on
from eglb.cli import evaluate, run_cli, train

ZONES = calibration()["zones"]


@pytest.fixture(scope="module")
def years():
    """Twelve drawn calendar years of the 14 zones."""
    return [make_history_synthetic(seed, hours=8760, start="2022-01-01T00") for seed in range(12)]


def test_same_seed_same_arrays_different_seeds_different_years():
    a, b, c = (make_history_synthetic(s, hours=96) for s in (5, 5, 6))
    assert a == b
    for name in ("price", "carbon", "water", "workload"):
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    assert a.regions == a.gateways == tuple(ZONES) and a.full_mask
    # Without a start the seed picks a midnight of 2022; a pinned start keeps the seed's draws.
    first = a.timestamps[0].astype("datetime64[h]")
    assert str(first).startswith("2022-") and first.astype(np.int64) % 24 == 0
    pinned = make_history_synthetic(5, hours=96, start="2023-07-01T00")
    assert str(pinned.timestamps[0]) == "2023-07-01T00:00:00" and pinned.name.endswith("from 2023-07-01T00")


def test_zones_can_be_chosen_in_any_order():
    s = make_history_synthetic(1, hours=48, zones="DE-LU,US-TEX-ERCO")
    assert s.regions == ("DE-LU", "US-TEX-ERCO") and s.price.shape == (2, 48)
    assert make_history_synthetic(1, hours=4, zones=["SG"]).regions == ("SG",)
    assert make_history_synthetic(1, hours=4, zones="complete14").n_regions == 14


def test_values_stay_inside_each_zones_calibrated_range_and_capacity_follows_the_rule(years):
    figures = calibration()
    for name in ("price", "carbon", "water"):
        quantiles = np.asarray(figures["series"][name]["quantiles"])
        values = np.concatenate([getattr(y, name) for y in years], axis=1)
        assert (values >= quantiles[:, :1] - 1e-12).all() and (values <= quantiles[:, -1:] + 1e-12).all()
    peak = mean_yearly_peak("bloom")
    assert 1.0 < peak < 1.3  # the long-run peak is 1 MW; a year's largest hour lies a little above it
    for y in years[:3]:
        np.testing.assert_allclose(y.capacity, (1 + CAPACITY_HEADROOM) * peak)
        assert (y.workload > 0).all() and (y.workload <= y.capacity).all()


def test_long_run_means_match_the_calibration_years(years):
    figures = calibration()
    # Tolerances for 12 drawn years: each year draws one year offset per series, and prices have
    # spikes (Texas 2021, Australia) whose share of the mean varies a lot from year to year.
    for name, tolerance in (("carbon", 0.06), ("water", 0.04), ("price", 0.3)):
        stored = np.asarray(figures["series"][name]["mean"])
        drawn = np.concatenate([getattr(y, name) for y in years], axis=1).mean(axis=1)
        np.testing.assert_allclose(drawn, stored, rtol=tolerance, err_msg=name)
        assert np.corrcoef(np.argsort(np.argsort(drawn)), np.argsort(np.argsort(stored)))[0, 1] > 0.95  # zones keep their ranking


def test_seasonal_and_daily_profiles_are_kept(years):
    """The drawn years' normal-score profile by month and by (season, hour) is the calibrated one."""
    figures = calibration()
    for name in ("carbon", "water", "price"):
        quantiles = np.asarray(figures["series"][name]["quantiles"])
        monthly = np.asarray(figures["series"][name]["monthly"])
        shape = np.asarray(figures["series"][name]["daily_shape"])
        values = np.stack([getattr(y, name) for y in years])  # [years, zones, 8760]
        when = calendar(years[0].timestamps)
        for k in range(len(ZONES)):
            if np.ptp(quantiles[k]) == 0:
                continue
            # Normal scores through the zone's stored quantiles (the generator's own map, inverted).
            keep = np.concatenate([[True], np.diff(quantiles[k]) > 0])
            scores = np.interp(values[:, k], quantiles[k][keep], np.asarray(PROBABILITIES)[keep])
            z = ndtri(np.clip(scores, 1e-6, 1 - 1e-6))
            month = np.floor(when["month_position"] + 0.5).astype(int) % 12
            drawn_monthly = np.array([z[:, month == m].mean() for m in range(12)])
            if np.ptp(monthly[k]) > 0.5:
                assert np.corrcoef(drawn_monthly, monthly[k])[0, 1] > 0.8, (name, ZONES[k])
            drawn_shape = np.array(
                [[z[:, (when["season"] == s) & (when["hour"] == h)].mean() for h in range(24)] for s in range(4)]
            )
            for s in range(4):
                if np.ptp(shape[k, s]) > 0.5:
                    assert np.corrcoef(drawn_shape[s], shape[k, s])[0, 1] > 0.9, (name, ZONES[k], s)


def test_decomposition_recovers_a_known_model():
    """decompose() on a series drawn from known parts gives those parts back."""
    rng = np.random.default_rng(0)
    timestamps = np.arange(np.datetime64("2021-01-01T00"), np.datetime64("2023-01-01T00")).astype("datetime64[s]")
    when = calendar(timestamps)
    monthly = np.array([[0.5 * np.cos(2 * np.pi * m / 12) for m in range(12)]])
    shape = np.tile(0.3 * np.sin(2 * np.pi * np.arange(24) / 24), (1, 4, 1))
    fast = np.zeros(timestamps.size)
    for t in range(1, timestamps.size):
        fast[t] = 0.8 * fast[t - 1] + 0.05 * rng.standard_normal()
    z = monthly_level(monthly, when["month_position"]) + shape[:, when["season"], when["hour"]] + fast
    parts = decompose(z, timestamps)
    np.testing.assert_allclose(parts["monthly"], monthly, atol=0.03)
    np.testing.assert_allclose(parts["daily_shape"], shape, atol=0.03)
    assert parts["year_std"][0] < 0.01  # the model has no year offset
    # The hourly noise (5-hour memory) splits into day-to-day and hour-to-hour parts, both persistent.
    assert 0.5 < parts["hour_phi"][0] < 0.8 and parts["day_std"][0] > 0
    scores = normal_scores(np.array([[3.0, 1.0, 1.0, 2.0]]))
    assert scores[0, 1] == scores[0, 2] < scores[0, 3] < scores[0, 0]  # ties share their score


def test_the_source_draws_a_new_training_seed_and_start_per_episode():
    source = HistorySyntheticSource(hours=24, zones="US-TEX-ERCO,KR")
    rng = np.random.default_rng(0)
    drawn = [source(rng) for _ in range(4)]
    assert len({s.name for s in drawn}) == 4 and all(s.regions == ("US-TEX-ERCO", "KR") for s in drawn)
    assert all(int(s.name.split()[3].rstrip(",")) >= HELD_OUT_SEEDS for s in drawn)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"zones": "Atlantis"}, "unknown zone 'Atlantis' for the history-calibrated generator"),
        ({"zones": "SG,SG"}, "zone 'SG' is chosen twice"),
        ({"zones": "SG,"}, "--zones must be complete14 or zone names"),
        ({"start": "yesterday"}, "argument 'start': expected a UTC hour"),
        ({"hours": 0}, "argument 'hours' must be a positive integer"),
        ({"seed": -1}, "argument 'seed': expected an integer >= 0"),
    ],
)
def test_generator_mistakes(kwargs, message):
    with pytest.raises(InputError, match=message):
        make_history_synthetic(**kwargs)


def test_a_damaged_calibration_file_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InputError, match="is not a history calibration file"):
        load_calibration(path)
    path.write_text("{")
    with pytest.raises(InputError, match="cannot read the history calibration"):
        load_calibration(path)


def test_the_committed_file_carries_the_notices_and_no_hourly_series():
    figures = json.loads(CALIBRATION_FILE.read_text())
    assert "Open Database License" in figures["notice"] and "Open-Meteo" in figures["notice"]
    assert "2021-01-01T00 .. 2022-12-31T23" in figures["source"]  # the calibration years only
    longest = max(len(v) for s in figures["series"].values() for v in s["quantiles"])
    assert longest == len(PROBABILITIES) and CALIBRATION_FILE.stat().st_size < 120_000


# ----------------------------------------------------------------------------------- through the CLIs
def test_evaluate_draws_history_zones(tmp_path, capsys):
    out = tmp_path / "res"
    assert (
        evaluate.main(
            [
                "--synthetic",
                "1,2",
                "--zones",
                "US-TEX-ERCO,DE-LU",
                "--synthetic-hours",
                "48",
                "--algos",
                "eglb,eglb-off",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    rows = json.loads((out / "results.json").read_text())
    assert {r["scenario"] for r in rows} == {make_history_synthetic(s, hours=48, zones="US-TEX-ERCO,DE-LU").name for s in (1, 2)}
    assert set(rows[0]["region_water"]) == {"US-TEX-ERCO", "DE-LU"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--traces", "{tmp}", "--zones", "SG"], "--zones picks zones of the history-calibrated synthetic generator"),
        (["--zones", "SG", "--setting", "partial"], "the history-calibrated generator has the full mask"),
        (["--zones", "Atlantis"], "unknown zone 'Atlantis'"),
    ],
)
def test_evaluate_zone_mistakes(tmp_path, capsys, args, message):
    assert run_cli(evaluate.main, [a.format(tmp=tmp_path) for a in args] + ["--algos", "eglb", "--no-progress"]) == 2
    assert message in capsys.readouterr().err


def test_train_on_history_synthetic_then_act_on_real_history(small_history, tmp_path, private_cache):
    """A policy trained on drawn zones only acts on a history scenario of the same zones."""
    args = ["--algo", "bc", "--synthetic", "--zones", "US-TEX-ERCO,DE-LU", "--eval-seeds", "0", "--out", str(tmp_path)]
    assert train.main(args + TINY_BC) == 0
    folder = tmp_path / "bc-synthetic-history-s0"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["data"]["zones"] == "US-TEX-ERCO,DE-LU" and config["scenario_shape"] == [2, 2]
    rows = json.loads((folder / "results.json").read_text())
    assert {r["scenario"] for r in rows} == {make_history_synthetic(0, hours=24, zones="US-TEX-ERCO,DE-LU").name}
    out = tmp_path / "real"
    algos = ["--algos", f"bc:{folder},eglb-off", "--out", str(out), "--no-progress"]
    assert evaluate.main(history_args(small_history, "2022", "0:24") + algos) == 0
    assert json.loads((out / "results.json").read_text())[0]["ratio_to_offline"] >= 1 - 1e-9
    assert trained_on(f"bc:{folder}") == "synthetic history (US-TEX-ERCO,DE-LU)"


def test_train_zone_mistakes(tmp_path, capsys):
    argv = ["--algo", "bc", "--synthetic", "--zones", "SG", "--setting", "partial", "--out", str(tmp_path), "--no-progress"]
    assert run_cli(train.main, argv) == 2
    assert "--setting partial does not apply to --zones" in capsys.readouterr().err


# ----------------------------------------------------------------------------------- against the real history
def test_the_committed_file_is_what_the_calibration_measures(history_path):
    scenario, timezones = calibration_scenario(history_path)
    fresh = json.loads(json.dumps(measure(scenario, timezones)))
    stored = json.loads(CALIBRATION_FILE.read_text())
    assert fresh == stored
    # Only UTC 2021-2022 hours (a 2023 file lends the last local hours of 2022 UTC in eastern zones), never 2024.
    assert str(scenario.timestamps[-1]) == "2022-12-31T23:00:00"
    assert not [f for f in scenario.metadata["files_read"] if "2024" in f]
    with pytest.raises(InputError, match="include the test year 2024"):
        calibration_scenario(history_path, years="2023-2024")
