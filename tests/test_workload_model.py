"""The workload model: generate() against independent recomputations, fit() recovering what generate() drew, errors."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.envs.workload_model import (
    PEAK_QUANTILE,
    WorkloadModel,
    fit,
    generalized_pareto_pwm,
    generate,
    long_run_peak,
    validation_statistics,
)

MONDAY = np.datetime64("2024-01-01T00", "s")  # a Monday
DAILY = 1.0 + 0.6 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)  # mean 1, trough 0.4 at 03:00, peak 1.6 at 15:00
WEEKLY = np.array([1.1, 1.1, 1.1, 1.1, 1.0, 0.8, 0.8]) / np.mean([1.1, 1.1, 1.1, 1.1, 1.0, 0.8, 0.8])


def make_model(**changes) -> WorkloadModel:
    figures = dict(
        source="test",
        unit="requests per hour",
        level=10.0,
        utc_offset_hours=0.0,
        hours=1000,
        components=("daily", "weekly", "noise", "bursts"),
        daily_profile=tuple(DAILY),
        weekly_profile=tuple(WEEKLY),
        daily_kept=1.0,
        weekly_kept=1.0,
        noise_std=0.1,
        noise_autocorrelation=0.7,
        noise_exponent=1.0,
        burst_probability=0.01,
        burst_threshold=0.5,
        burst_scale=0.3,
        burst_shape=0.2,
        floor=0.0,
        weekly_growth=1.0,
    )
    figures.update(changes)
    return WorkloadModel(**figures)


def hours_from(start, n):
    return start + np.arange(n) * np.timedelta64(3600, "s")


def local_week_hour(timestamps, offset):
    """Independent: hours since a Monday 00:00 UTC, shifted by the offset, modulo a week."""
    return np.mod((timestamps - MONDAY) / np.timedelta64(1, "h") + offset, 168)


YEARS_20 = hours_from(MONDAY, 20 * 52 * 168)


def test_json_round_trip_and_hash():
    model = make_model()
    again = WorkloadModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again == model and hash(again) == hash(model)
    fitted = fit(generate(model, YEARS_20[:2000], [0.0], np.random.default_rng(1))[0], YEARS_20[:2000], 0.0, source="x")
    assert WorkloadModel.from_json(json.loads(json.dumps(fitted.to_json()))) == fitted


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"daily_profile": tuple(DAILY[:23])}, "field 'daily_profile': expected 24 finite non-negative numbers"),
        ({"weekly_profile": (1.0,) * 6 + (-1.0,)}, "field 'weekly_profile'"),
        ({"noise_autocorrelation": 1.0}, "field 'noise_autocorrelation': expected a number in"),
        ({"noise_std": -0.1}, "field 'noise_std'"),
        ({"burst_shape": 0.7}, "field 'burst_shape'"),
        ({"noise_exponent": 1.5}, "field 'noise_exponent'"),
        ({"utc_offset_hours": 15}, "field 'utc_offset_hours'"),
        ({"components": ("daily", "season")}, "field 'components'"),
    ],
)
def test_bad_models_are_refused(changes, message):
    with pytest.raises(InputError, match=message):
        make_model(**changes)


def test_from_json_names_missing_and_unknown_keys():
    data = make_model().to_json()
    del data["floor"]
    data["colour"] = "red"
    with pytest.raises(InputError, match=r"calibration: missing keys \['floor'\], unknown keys \['colour'\]"):
        WorkloadModel.from_json(data, where="calibration")


def test_same_seed_same_arrays_other_seed_other_arrays():
    model, stamps = make_model(), hours_from(MONDAY, 500)
    first = generate(model, stamps, [0, 9, -5], np.random.default_rng(42), peak_mw=2.0)
    again = generate(model, stamps, [0, 9, -5], np.random.default_rng(42), peak_mw=2.0)
    other = generate(model, stamps, [0, 9, -5], np.random.default_rng(43), peak_mw=2.0)
    assert first.shape == (3, 500) and (first >= 0).all()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    # peak_mw only scales: the same draw at another peak.
    np.testing.assert_allclose(generate(model, stamps, [0, 9, -5], np.random.default_rng(42), peak_mw=1.0), first / 2)


def test_profiles_follow_each_gateways_local_clock_exactly():
    """Without noise or bursts a load is the baseline at the gateway's local hour; the peak maps to peak_mw."""
    model = make_model(noise_std=0.0, burst_probability=0.0, burst_threshold=0.0, burst_scale=0.0, burst_shape=0.0)
    stamps = hours_from(np.datetime64("2024-03-06T17", "s"), 400)  # a Wednesday afternoon
    offsets = [0.0, 9.0, -5.0, 5.5]
    load = generate(model, stamps, offsets, np.random.default_rng(0), peak_mw=3.0)
    week = np.outer(WEEKLY, DAILY).ravel()  # [168], Monday 00:00 first
    scale = 3.0 / week.max()
    for j, offset in enumerate(offsets):
        k = local_week_hour(stamps, offset)
        whole, part = np.floor(k).astype(int), k - np.floor(k)
        expected = (1 - part) * week[whole % 168] + part * week[(whole + 1) % 168]  # India: half of each local hour
        np.testing.assert_allclose(load[j], scale * expected, rtol=1e-12)
    assert load.max() == pytest.approx(3.0)  # the weekly peak hour is the long-run peak
    # Offsets per hour (daylight saving time): switching from -5 to -4 moves the profile by an hour.
    per_hour = np.where(np.arange(400) < 200, -5.0, -4.0)[None, :]
    switched = generate(model, stamps, per_hour, np.random.default_rng(0), peak_mw=3.0)[0]
    np.testing.assert_allclose(switched[:200], load[2, :200])
    np.testing.assert_allclose(switched[200:], scale * week[np.floor(local_week_hour(stamps[200:], -4.0)).astype(int)])


def test_peak_mw_is_the_long_run_quantile():
    model = make_model()
    load = generate(model, YEARS_20, [2.0], np.random.default_rng(7), peak_mw=1.0)[0]
    above = np.mean(load > 1.0)
    assert above == pytest.approx(1 - PEAK_QUANTILE, rel=0.4), above  # 0.1 % of hours, from an independent draw
    assert long_run_peak(model) == long_run_peak(replace(model))  # a property of the model, cached or not


def test_long_draws_reproduce_the_model_figures():
    """Independent recomputation on 20 years of one gateway (3 h east of UTC), in units of the level.

    Tolerances (about 3 standard errors of each estimate): hour-of-week profile within 2 % and
    correlation > 0.999; level within 1 %; noise std within 3 %; lag-one autocorrelation within 0.02;
    burst share within 10 %; mean burst excess within 10 %.
    """
    model = make_model()
    offset = 3.0
    y = generate(model, YEARS_20, [offset], np.random.default_rng(11), peak_mw=long_run_peak(model))[0]
    week = np.outer(WEEKLY, DAILY).ravel()
    k = local_week_hour(YEARS_20, offset).astype(int)
    r = y / week[k] - 1.0
    burst = r > model.burst_threshold
    ordinary = ~burst
    expected_excess = model.burst_scale / (1 - model.burst_shape)
    # Gaussian noise 5 standard deviations up adds a negligible share of false bursts.
    false_share = 0.5 * math.erfc(model.burst_threshold / (model.noise_std * math.sqrt(2)))
    assert burst.mean() == pytest.approx(model.burst_probability + false_share, rel=0.1)
    assert np.mean(r[burst] - model.burst_threshold) == pytest.approx(expected_excess, rel=0.1)
    assert r[ordinary].std() == pytest.approx(model.noise_std, rel=0.03)
    pairs = ordinary[1:] & ordinary[:-1]
    centred = r - r[ordinary].mean()
    lag_one = np.sum(centred[1:][pairs] * centred[:-1][pairs]) / (pairs.sum() * r[ordinary].var())
    assert lag_one == pytest.approx(model.noise_autocorrelation, abs=0.02)
    by_hour = np.bincount(k[ordinary], weights=y[ordinary], minlength=168) / np.bincount(k[ordinary], minlength=168)
    np.testing.assert_allclose(by_hour / by_hour.mean(), week / week.mean(), rtol=0.02)
    assert np.corrcoef(by_hour, week)[0, 1] > 0.999
    level = week.mean() * (1 + model.burst_probability * (model.burst_threshold + expected_excess))
    assert y.mean() == pytest.approx(level, rel=0.01)


def test_fit_recovers_what_generate_drew():
    """Parameter recovery on 10 generated years with scaled noise (theta 0.7) and bursts."""
    model = make_model(noise_exponent=0.7, noise_std=0.08, noise_autocorrelation=0.6, utc_offset_hours=-5.0)
    stamps = YEARS_20[: 10 * 52 * 168]
    load = generate(model, stamps, [-5.0], np.random.default_rng(5), peak_mw=123.0)[0]
    fitted = fit(load, stamps, -5.0)
    assert set(fitted.components) == {"daily", "weekly", "noise", "bursts"}
    assert fitted.daily_kept > 0.99 and fitted.weekly_kept > 0.99
    np.testing.assert_allclose(fitted.daily_profile, DAILY, atol=0.02)
    np.testing.assert_allclose(fitted.weekly_profile, WEEKLY, atol=0.02)
    assert fitted.noise_exponent == pytest.approx(0.7, abs=0.1)
    assert fitted.noise_std == pytest.approx(0.08, rel=0.08)
    assert fitted.noise_autocorrelation == pytest.approx(0.6, abs=0.03)
    assert fitted.burst_probability == pytest.approx(0.01, rel=0.2)
    # The fit puts its threshold at 3.5 robust standard deviations, not at the model's 0.5: what it must
    # recover is the bursts' whole deviation, threshold plus mean excess (0.5 + 0.3 / 0.8).
    assert fitted.burst_threshold + fitted.burst_scale / (1 - fitted.burst_shape) == pytest.approx(0.875, rel=0.1)
    assert fitted.weekly_growth == pytest.approx(1.0, abs=0.01)
    assert fitted.level == pytest.approx(load.mean()) and fitted.hours == stamps.size


def test_shrinkage_keeps_real_profiles_and_flattens_noise():
    """Three weeks: a strong daily cycle is kept; the hour-of-day pattern of pure noise is mostly dropped."""
    stamps = hours_from(MONDAY, 3 * 168)
    strong = fit(generate(make_model(), stamps, [0.0], np.random.default_rng(3))[0], stamps, 0.0)
    assert strong.daily_kept > 0.9 and np.corrcoef(strong.daily_profile, DAILY)[0, 1] > 0.98
    flat_model = make_model(
        daily_profile=(1.0,) * 24, weekly_profile=(1.0,) * 7, noise_std=0.2, noise_autocorrelation=0.5, burst_probability=0.0
    )
    series = generate(flat_model, stamps, [0.0], np.random.default_rng(3))[0]
    flat = fit(series, stamps, 0.0)
    raw = np.array([series[h::24].mean() for h in range(24)]) / series.mean()
    assert flat.daily_kept < 0.5
    assert np.max(np.abs(np.array(flat.daily_profile) - 1)) < 0.5 * np.max(np.abs(raw - 1))


def test_fit_without_weekday_short_traces_and_growth():
    stamps = hours_from(MONDAY, 6 * 168)
    series = generate(make_model(), stamps, [0.0], np.random.default_rng(9))[0]
    no_week = fit(series, stamps, 0.0, weekly=False)
    assert no_week.weekly_profile == (1.0,) * 7 and "weekly" not in no_week.components and no_week.weekly_kept == 0
    three_days = fit(series[:72], stamps[:72], 0.0)
    assert "daily" in three_days.components and "weekly" not in three_days.components
    assert three_days.weekly_growth == 1.0  # shorter than two weeks: no level trajectory
    with pytest.raises(InputError, match="at least 48 hours with data"):
        fit(series[:24], stamps[:24], 0.0)
    # A level growing 10 % a week is reported, and the profile is still read.
    grown = fit(series * 1.1 ** (np.arange(stamps.size) / 168), stamps, 0.0)
    assert grown.weekly_growth == pytest.approx(1.1, abs=0.03)
    assert np.corrcoef(grown.daily_profile, DAILY)[0, 1] > 0.98


def test_fit_skips_hours_without_data():
    stamps = hours_from(MONDAY, 4 * 168)
    series = generate(make_model(), stamps, [0.0], np.random.default_rng(2))[0]
    holed = series.copy()
    holed[100:130] = np.nan
    model = fit(holed, stamps, 0.0)
    assert model.hours == stamps.size - 30 and np.isfinite(model.noise_std) and np.isfinite(model.level)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s, t: fit(s, t[::2], 0.0), "expected 600 values|consecutive hours"),
        (lambda s, t: fit(s, np.concatenate([t[:10], t[11:]]), 0.0), "element 10: expected consecutive hours"),
        (lambda s, t: fit(s, t + np.timedelta64(60, "s"), 0.0), "element 0: .* is not an hour start"),
        (lambda s, t: fit(-s, t, 0.0), "argument 'series', element 0: expected a value >= 0 or NaN"),
        (lambda s, t: fit(s[:-1], t, 0.0), "expected 600 values \\(one per timestamp\\), got shape \\(599,\\)"),
        (lambda s, t: fit(s, t, 20), "argument 'utc_offset_hours': expected a UTC offset in hours in \\[-12, 14\\]"),
        (lambda s, t: fit(s, t.astype(str), 0), "argument 'timestamps': expected a non-empty 1-D array of datetime64"),
        (lambda s, t: generate(make_model(), t, [0.0], np.random.default_rng(0), peak_mw=0.0), "argument 'peak_mw'"),
        (lambda s, t: generate(make_model(), t, [0.0, 15.0], np.random.default_rng(0)), "'utc_offsets', gateway 1"),
        (lambda s, t: generate(make_model(), t, np.zeros((2, 5)), np.random.default_rng(0)), "shape \\[J\\] or \\[J, 600\\]"),
        (lambda s, t: generate(make_model(), t, [], np.random.default_rng(0)), "argument 'utc_offsets'"),
        (lambda s, t: generate(make_model(), t, [0.0], 3), "argument 'rng': expected a numpy.random.Generator"),
        (lambda s, t: validation_statistics(make_model(), s, t, draws=0), "argument 'draws': expected a positive integer"),
    ],
)
def test_bad_arguments(call, message):
    stamps = hours_from(MONDAY, 600)
    series = np.ones(600)
    with pytest.raises(InputError, match=message):
        call(series, stamps)


@pytest.mark.parametrize("shape, scale", [(0.25, 2.0), (0.0, 0.5)])
def test_generalized_pareto_probability_weighted_moments(shape, scale):
    u = np.random.default_rng(4).random(50_000)
    sample = scale / shape * ((1 - u) ** -shape - 1) if shape > 0 else -scale * np.log1p(-u)
    fitted_shape, fitted_scale = generalized_pareto_pwm(sample)
    assert fitted_shape == pytest.approx(shape, abs=0.03)
    assert fitted_scale == pytest.approx(scale, rel=0.04)


def test_validation_bands_cover_draws_of_the_model_itself():
    """Treating draws of the model as the real trace, 90 % bands should hold about 90 % of their figures.

    Heavy-tailed bursts move several figures of one draw together, so the check is over 20 draws:
    at least 80 % of all (draw, figure) pairs inside.
    """
    model = make_model()
    stamps = hours_from(MONDAY, 4 * 168)
    inside = []
    for seed in range(20):
        draw = generate(model, stamps, [0.0], np.random.default_rng(100 + seed), peak_mw=long_run_peak(model))[0]
        table = validation_statistics(model, draw * 5.0, stamps, draws=100, seed=1)  # any unit: divided by its level
        inside += [low <= real <= high for real, _, low, high in table.values()]
    assert set(table) == {
        "std / mean", "lag-1 autocorrelation", "lag-24 autocorrelation", "peak / mean",
        "share below 5% of level", "daily profile corr.", "burst share",
    }  # fmt: skip
    assert np.mean(inside) >= 0.8, np.mean(inside)
    # The real figures are those of the series itself: a lag-one autocorrelation by direct computation.
    level_free = draw / np.convolve(np.ones(168) / 168, draw, mode="same")  # not the fit's trajectory, close to it
    assert table["lag-1 autocorrelation"][0] == pytest.approx(np.corrcoef(level_free[1:], level_free[:-1])[0, 1], abs=0.05)
