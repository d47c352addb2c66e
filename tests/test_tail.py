"""The learned tail of RHC: the fitted daily cycle, its predictions, files, references and specs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eglb.agents.rhc import RHC, controller_from_spec
from eglb.agents.rollout import rollout
from eglb.envs.errors import InputError
from eglb.envs.forecast import input_rows
from eglb.envs.shifts import ShiftedScenario
from eglb.envs.synthetic import make_synthetic
from eglb.forecasts import train_tail
from eglb.forecasts.naive import SeasonalNaiveForecaster
from eglb.forecasts.tail import ProfileTail, fit_profile_tail, load_tail, reference_tails, series_names, tail_group

from eglb.evaluation import run_case
from eglb.registry import AlgorithmOptions

DAYS = 40


def cycled(seed: int = 0):
    """A synthetic scenario whose every series is a daily level plus a fixed cycle by UTC hour of day."""
    scenario = make_synthetic(seed, hours=24 * DAYS)
    rng = np.random.default_rng(seed)
    hour = scenario.timestamps.astype("datetime64[h]").astype(np.int64) % 24
    n, j = scenario.n_regions, scenario.n_gateways
    cycle = rng.uniform(-1, 1, size=(24, 3 * n + j))
    level = np.repeat(rng.uniform(2, 5, size=(DAYS, 3 * n + j)), 24, axis=0)
    rows = level + cycle[hour]
    return scenario.with_changes(
        price=rows[:, :n].T * 30,
        carbon=rows[:, n : 2 * n].T / 10,
        water=rows[:, 2 * n : 3 * n].T,
        workload=rows[:, 3 * n :].T / 20,
    ), hour


def test_the_fit_recovers_the_daily_cycle():
    scenario, hour = cycled()
    tail = fit_profile_tail([scenario], seed=None)
    rows = input_rows(scenario, 0, scenario.n_hours)
    # Whole days only, every hour of day equally often: the profile is the cycle minus its mean, exactly.
    month = scenario.timestamps.astype("datetime64[M]").astype(np.int64) % 12
    for m in np.unique(month):
        chosen = month == m
        days = rows[chosen].reshape(-1, 24, rows.shape[1]) if chosen.sum() % 24 == 0 else None
        if days is None or hour[chosen][0] != 0:
            continue
        expected = days.mean(axis=0) - days.mean(axis=(0, 1))
        np.testing.assert_allclose(tail.shape[m][np.arange(24)], expected, atol=1e-9)
    assert tail.series == tuple(series_names(scenario))
    assert len(tail.series) == 3 * scenario.n_regions + scenario.n_gateways


def test_early_in_an_episode_the_prediction_is_the_observed_level_with_the_cycle():
    scenario, hour = cycled(1)
    tail = fit_profile_tail([scenario], seed=None)
    week = scenario.window(24 * 10, 24 * 17)
    rows = input_rows(week, 0, week.n_hours)
    # One hour observed: that hour's value is the level plus its cycle, so the whole day follows.
    truth_of_the_day = rows[:24][np.argsort(hour[24 * 10 : 24 * 10 + 24])]
    np.testing.assert_allclose(tail.predict(week, 0), truth_of_the_day, rtol=1e-9, atol=1e-9)
    # After blend_hours observed, the observed hour-of-day means are the prediction.
    t = 60
    seen = np.zeros((24, rows.shape[1]))
    counts = np.zeros(24)
    for k in range(t + 1):
        seen[hour[24 * 10 + k]] += rows[k]
        counts[hour[24 * 10 + k]] += 1
    np.testing.assert_allclose(tail.predict(week, t), seen / counts[:, None], rtol=1e-12)


def test_a_flat_profile_that_trusts_the_past_at_once_is_the_seasonal_tail():
    scenario = make_synthetic(3, hours=72)
    flat = ProfileTail(tuple(series_names(scenario)), np.zeros((12, 24, len(series_names(scenario)))), 168, 1)
    seasonal = rollout(RHC(6, SeasonalNaiveForecaster(), "seasonal"), scenario)
    learned = rollout(RHC(6, SeasonalNaiveForecaster(), "learned", tail_model=flat), scenario)
    np.testing.assert_allclose(learned.energy, seasonal.energy, rtol=1e-9, atol=1e-9)


def test_a_learned_tail_changes_the_plan_and_every_action_stays_feasible():
    scenario, _ = cycled(2)
    tail = fit_profile_tail([scenario.window(0, 24 * 30)], seed=0)
    week = scenario.window(24 * 30, 24 * 37)
    seasonal = rollout(RHC(24, SeasonalNaiveForecaster(), "seasonal"), week)
    learned = rollout(RHC(24, SeasonalNaiveForecaster(), "learned", tail_model=tail), week)
    assert not np.allclose(learned.energy, seasonal.energy)
    np.testing.assert_allclose(learned.energy.sum(axis=0), week.total_workload, rtol=1e-9)
    assert (learned.energy <= week.capacity + 1e-9).all()


def test_bootstrap_seeds_differ_and_repeat():
    scenario = make_synthetic(4, hours=24 * DAYS)  # a noisy cycle: resampled days change the fit
    one, again, other = (fit_profile_tail([scenario], seed=s).shape for s in (1, 1, 2))
    np.testing.assert_array_equal(one, again)
    assert not np.allclose(one, other)


def test_files_round_trip_and_bad_files(tmp_path):
    scenario, _ = cycled(5)
    tail = fit_profile_tail([scenario], seed=0)
    tail.save(tmp_path / "t")
    loaded = load_tail(tmp_path / "t")
    np.testing.assert_allclose(loaded.shape, tail.shape, rtol=1e-6)  # stored as float32
    assert loaded.series == tail.series and loaded.blend_hours == tail.blend_hours
    with pytest.raises(InputError, match="holds no learned tail"):
        load_tail(tmp_path)
    card = json.loads((tmp_path / "t" / "tail.json").read_text())
    (tmp_path / "t" / "tail.json").write_text(json.dumps({**card, "format_version": 99}))
    with pytest.raises(InputError, match="format_version 99 is not supported"):
        load_tail(tmp_path / "t")
    (tmp_path / "t" / "tail.json").write_text(json.dumps(card))
    # An npz holding a pickled object is refused (allow_pickle=False), never unpickled.
    np.savez(tmp_path / "t" / "profile.npz", shape=np.array([object()], dtype=object))
    with pytest.raises(InputError, match="profile.npz: array 'shape' is object of shape"):
        load_tail(tmp_path / "t")
    np.savez(tmp_path / "t" / "profile.npz", shape=np.zeros((12, 24, 3)))
    with pytest.raises(InputError, match=r"expected numbers of shape \(12, 24, \d+\)"):
        load_tail(tmp_path / "t")


def test_the_reference_tails_load_and_refuse_other_regions():
    assert {"history14", "history14/seed-0", "history14/seed-1", "history14/seed-2"} <= set(reference_tails())
    assert tail_group("reference:history14") == [(k, f"reference:history14/seed-{k}") for k in range(3)]
    for seed in range(3):
        tail = load_tail(f"reference:history14/seed-{seed}")
        assert len(tail.series) == 56 and "notice" in tail.training  # profiles of ODbL data carry the notice
        assert tail.training["seed"] == seed
    with pytest.raises(InputError, match="fitted on other series"):
        rollout(controller_from_spec("rhc:w=6,tail=learned,tail_model=reference:history14/seed-0"), make_synthetic(0, hours=30))
    with pytest.raises(InputError, match="no reference tail '../history14'"):
        load_tail("reference:../history14")


def test_a_tail_group_is_evaluated_seed_by_seed(tmp_path):
    """train_tail --seeds writes a group; a controller naming it runs once per seed, each with the
    member's tail (the same result as naming the member), and a single policy refuses the group."""
    group = tmp_path / "group"
    args = ["--synthetic", "1000:1001", "--synthetic-hours", "240", "--seeds", "4,7", "--out", str(group)]
    assert train_tail.main(args) == 0
    assert tail_group(group) == [(4, f"{group}/seed-4"), (7, f"{group}/seed-7")]
    assert load_tail(group / "seed-7").training["seed"] == 7
    assert train_tail.main(args) == 2  # the group is there: refused without --overwrite
    spec = f"rhc:w=6,tail=learned,tail_model={group}"
    scenario = make_synthetic(1, hours=36)
    results, _ = run_case([spec], AlgorithmOptions(), ShiftedScenario(scenario))
    assert [(r.name, r.seed) for r in results[:2]] == [(spec, 4), (spec, 7)]
    for result, seed in zip(results[:2], (4, 7)):
        alone = rollout(controller_from_spec(f"rhc:w=6,tail=learned,tail_model={group}/seed-{seed}"), scenario)
        assert result.metrics.J == alone.metrics.J
    assert results[0].metrics.J != results[1].metrics.J
    with pytest.raises(InputError, match="a group of 2 tails .* e.g. tail_model=.*seed-4"):
        controller_from_spec(spec)
    (group / "tails.json").write_text(json.dumps({"format": "eglb-tail-group/1", "seeds": [1, 1]}))
    with pytest.raises(InputError, match="distinct seeds"):
        tail_group(group)


def test_the_fitting_program(tmp_path, capsys):
    out = tmp_path / "tail"
    assert train_tail.main(["--synthetic", "1000:1001", "--synthetic-hours", "200", "--seed", "3", "--out", str(out)]) == 0
    assert load_tail(out).training["seed"] == 3
    assert train_tail.main(["--years", "2021,2024", "--out", str(out)]) == 2
    assert "training years 2021, 2022 only" in capsys.readouterr().err
    assert train_tail.main(["--synthetic", "3:5", "--out", str(out)]) == 2


@pytest.mark.parametrize("name", sorted(train_tail.REFERENCE_FITS))
def test_the_shipped_tail_groups_are_what_their_commands_fit(name, tmp_path, request):
    if name == "history14":
        request.getfixturevalue("history_path")  # skips without the history folder
    assert name in reference_tails()
    out = tmp_path / name
    assert train_tail.main([*train_tail.REFERENCE_FITS[name], "--out", str(out)]) == 0
    from eglb.forecasts.tail import REFERENCE, tail_contents

    fitted, shipped = tail_contents(out), tail_contents(REFERENCE / name)
    members = [f"seed-{k}/{f}" for k in range(3) for f in ("profile.npz", "tail.json")]
    assert sorted(shipped) == sorted([*members, "tails.json"])
    assert fitted == shipped
