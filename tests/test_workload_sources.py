"""Workload sources: the committed calibration, run-time fits of the Alibaba traces, gateway loads, real traces."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from eglb.envs.eglb2022 import load_eglb2022
from eglb.envs.errors import InputError
from eglb.envs.workload_model import WorkloadModel, generate, long_run_peak, validation_statistics
from eglb.importers import workload
from eglb.importers.workload import (
    CALIBRATION_FILE,
    azure_figures,
    calibrated_model,
    calibration,
    fit_source,
    fitted_series,
    load_calibration,
    read_source,
    real_workload,
    trace_workload,
    workload_for,
)
from eglb.importers.workload_traces import AZURE_FILES, GENAI_FILE, GENAI_HEADER, HourlyTrace

YEAR = np.datetime64("2023-01-01T00", "s") + np.arange(8760) * np.timedelta64(3600, "s")


def approx_json(a, b):
    """Two JSON-ready values equal, numbers to 1e-9 relative."""
    if isinstance(a, dict):
        assert set(a) == set(b)
        for key in a:
            approx_json(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            approx_json(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    else:
        assert a == b


def test_committed_figures_hold_only_what_the_licences_allow():
    data = load_calibration()
    assert set(data["models"]) == {"bloom"} and set(data["azure"]) == set(AZURE_FILES)
    assert "alibaba" not in CALIBRATION_FILE.read_text().lower()  # research-only traces: never committed
    assert "MIT License, Copyright (c) 2023 Ren-Research" in data["notices"]["bloom"]
    assert "CC BY 4.0" in data["notices"]["azure"] and "Splitwise" in data["notices"]["azure"]
    model = calibrated_model("bloom")
    assert isinstance(model, WorkloadModel) and model.source == "bloom" and model.hours == 457
    with pytest.raises(InputError, match="no committed workload model 'alibaba-genai'.*committed: bloom"):
        calibrated_model("alibaba-genai")


def test_committed_figures_are_those_the_files_give_now(published_path, workload_history_path):
    """The committed file is what `python -m eglb.importers.workload --write` writes from the data."""
    approx_json(calibration(workload_history_path, published_path), load_calibration())


def test_workload_for_bloom_needs_no_data_and_is_the_seeded_model(monkeypatch, tmp_path):
    monkeypatch.setenv("EGLB_HISTORY_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("EGLB2022_DATA", str(tmp_path / "nowhere"))
    offsets = [-6, -5, -8, -5, 1, 1, 1, 1, 9, 8]
    loads = workload_for(YEAR, offsets, seed=3, peak_mw=2.0)
    assert loads.shape == (10, 8760) and (loads > 0).all()
    np.testing.assert_array_equal(loads, generate(calibrated_model("bloom"), YEAR, offsets, np.random.default_rng(3), 2.0))
    np.testing.assert_array_equal(loads, workload_for(YEAR, offsets, seed=3, peak_mw=2.0, source="bloom"))
    assert not np.array_equal(loads, workload_for(YEAR, offsets, seed=4, peak_mw=2.0))
    assert np.mean(loads > 2.0) < 0.003  # the long-run peak: 0.1 % of hours above it
    model = calibrated_model("bloom")
    np.testing.assert_array_equal(workload_for(YEAR[:48], [0], seed=1, source=model), workload_for(YEAR[:48], [0], seed=1))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": -1}, "argument 'seed': expected an integer >= 0"),
        ({"seed": 1.5}, "argument 'seed'"),
        ({"seed": 1, "source": "burstgpt"}, "unknown workload source 'burstgpt' \\(known: bloom, alibaba-genai"),
        ({"seed": 1, "source": "azure-conv"}, "'azure-conv' is a one-hour trace.*real_workload\\('azure-conv'"),
        ({"seed": 1, "source": "alibaba-dlrm"}, "workload source 'alibaba-dlrm': missing file .*EGLB_HISTORY_DATA"),
    ],
)
def test_workload_for_errors(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        workload_for(YEAR[:24], [0.0], history_path=tmp_path, **kwargs)


def write_genai(folder, hourly_counts, start, extra_rows=()):
    """A GenAI request file with the given requests per hour (10 s of execution each)."""
    path = folder / GENAI_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(extra_rows)
    for k, count in enumerate(hourly_counts):
        hour = start + np.timedelta64(k, "h")
        for second in np.linspace(0, 3599, int(count), endpoint=False).astype(int):
            stamp = str(hour + np.timedelta64(int(second), "s")).replace("T", " ")
            rows.append(f"{stamp},TXT_2_IMG,SUCCEED,10.0,G1,20.0,,1.0,30.0,M1,0")
    path.write_text("\n".join([",".join(GENAI_HEADER), *rows]) + "\n")
    return path


def test_genai_is_fitted_at_run_time_from_the_history_folder(tmp_path):
    """A GenAI file drawn from a known model: the fit reads its profile 7 h before the labels, from Nov 19, 07:00."""
    truth = WorkloadModel.from_json(
        {
            **calibrated_model("bloom").to_json(),
            "daily_profile": list(1 + 0.8 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)),
            "utc_offset_hours": -7.0,
            "floor": 0.0,
            "noise_std": 0.1,
        }
    )
    start = np.datetime64("2024-11-19T07", "s")  # the first hour the source fits
    labels = start + np.arange(3 * 168) * np.timedelta64(3600, "s")
    counts = np.round(generate(truth, labels, [-7.0], np.random.default_rng(0), peak_mw=40.0)[0])
    launch = ["2024-11-18 10:00:00,TXT_2_IMG,SUCCEED,5000.0,G0,1.0,,1.0,30.0,M1,0"]  # before the fit: ignored
    write_genai(tmp_path, counts, start, launch)
    model = fit_source("alibaba-genai", history_path=tmp_path)
    assert model.hours == 3 * 168 - 1  # full hours from Nov 19 07:00; the last one is covered only in part
    assert model.utc_offset_hours == -7.0 and model.unit.startswith("execution seconds")
    assert np.corrcoef(model.daily_profile, truth.daily_profile)[0, 1] > 0.98
    loads = workload_for(YEAR[:168], [-5.0, 9.0], seed=2, peak_mw=1.0, source="alibaba-genai", history_path=tmp_path)
    assert loads.shape == (2, 168) and np.isfinite(loads).all()
    # An edited file is fitted again (the cache key holds its size and modification time).
    write_genai(tmp_path, np.full(3 * 168, 20), start)
    again = fit_source("alibaba-genai", history_path=tmp_path)
    assert again != model and again.daily_kept == 0.0  # a flat series has no daily profile


def test_trace_workload_keeps_covered_hours_at_their_rate():
    stamps = np.datetime64("2024-01-01T00", "s") + np.arange(4) * np.timedelta64(3600, "s")

    def trace(values, coverage):
        return HourlyTrace("t", "t.csv", "UTC", stamps[: len(values)], np.array(coverage), {"q": np.array(values)}, {"q": "u"})

    timestamps, loads = trace_workload(trace([3.0, 10.0, 20.0, 6.0], [0.3, 1, 1, 0.6]), "q", 3, peak_mw=2.0)
    np.testing.assert_array_equal(timestamps, stamps[1:])
    np.testing.assert_allclose(loads, np.tile([1.0, 2.0, 1.0], (3, 1)))  # 6 in 0.6 h is 10 an hour
    with pytest.raises(InputError, match="no data in hour 2024-01-01T01:00:00"):
        trace_workload(trace([1.0, np.nan, 1.0], [1, 0, 1]), "q", 1)
    with pytest.raises(InputError, match="covers no hour for 50% or more"):
        trace_workload(trace([1.0, 1.0], [0.4, 0.2]), "q", 1)
    with pytest.raises(InputError, match="zero in every hour"):
        trace_workload(trace([0.0, 0.0], [1, 1]), "q", 1)
    with pytest.raises(InputError, match="argument 'n_gateways'"):
        trace_workload(trace([1.0, 1.0], [1, 1]), "q", 0)


def test_real_bloom_workload_is_the_published_scaling(published_path):
    timestamps, loads = real_workload("bloom", 10, published_path=published_path)
    published = load_eglb2022(published_path)
    np.testing.assert_array_equal(timestamps, published.timestamps)
    np.testing.assert_array_equal(loads, published.workload)


def test_azure_figures_and_its_one_real_hour(tmp_path):
    path = tmp_path / AZURE_FILES["conv"]
    path.parent.mkdir(parents=True)
    # 18:15:00 .. 19:10:00: 55 minutes; minute 18:20 has 5 requests, every other whole minute 1.
    times = [np.datetime64("2023-11-16T18:15:00") + np.timedelta64(m, "m") for m in range(56)]
    times += [np.datetime64("2023-11-16T18:20:30")] * 4
    rows = [f"{str(t).replace('T', ' ')}.0000000,100,10" for t in sorted(times)]
    path.write_bytes("\r\n".join(["TIMESTAMP,ContextTokens,GeneratedTokens", *rows]).encode())
    figures = azure_figures("conv", tmp_path)
    per_minute = np.ones(55)
    per_minute[5] = 5
    centred = per_minute - per_minute.mean()
    assert figures["window_minutes"] == pytest.approx(55.0)
    assert figures["requests"] == 60 and figures["requests_per_hour"] == pytest.approx(60 / (55 / 60))
    assert figures["context_tokens_per_hour"] == pytest.approx(6000 / (55 / 60))
    assert figures["minute_cv"] == pytest.approx(per_minute.std() / per_minute.mean())
    assert figures["minute_autocorrelation"] == pytest.approx(np.sum(centred[1:] * centred[:-1]) / np.sum(centred**2))
    assert figures["peak_5min_to_mean"] == pytest.approx(9 * 12 / (60 / (55 / 60)))  # 18:20-18:25 holds 9 requests
    timestamps, loads = real_workload("azure-conv", 2, peak_mw=1.0, history_path=tmp_path)
    assert [str(t) for t in timestamps] == ["2023-11-16T18:00:00"] and loads.tolist() == [[1.0], [1.0]]


def test_command_prints_what_it_finds_and_skips_what_is_missing(tmp_path, capsys):
    assert workload.main(["--history", str(tmp_path), "--published", str(tmp_path), "--draws", "5"]) == 0
    out = capsys.readouterr().out
    for name in ("bloom", "alibaba-genai", "alibaba-dlrm", "azure-code", "azure-conv"):
        assert f"{name}: skipped (workload source '{name}': missing file" in out
    before = os.stat(CALIBRATION_FILE).st_mtime_ns
    assert workload.main(["--history", str(tmp_path), "--published", str(tmp_path), "--write"]) == 2  # nothing to write from
    assert "error: workload source 'bloom': missing file" in capsys.readouterr().err
    assert os.stat(CALIBRATION_FILE).st_mtime_ns == before


def test_real_alibaba_fits_and_their_validation(workload_history_path):
    genai = fit_source("alibaba-genai", workload_history_path)
    assert set(genai.components) == {"daily", "weekly", "noise", "bursts"} and genai.daily_kept > 0.9
    assert 0.3 < genai.noise_exponent < 0.9  # busy hours vary less, relative to their load, than quiet ones
    values, timestamps = fitted_series("alibaba-genai", read_source("alibaba-genai", workload_history_path))
    table = validation_statistics(genai, values, timestamps, draws=100)
    # The figures the model reproduces; its hour-to-hour persistence is a little short of the trace's
    # (lag-one autocorrelation 0.72 against a median of 0.65 over generated traces): reported, not asserted.
    for figure in ("peak / mean", "daily profile corr.", "burst share"):
        real, _, low, high = table[figure]
        assert low <= real <= high, (figure, table[figure])
    dlrm = fit_source("alibaba-dlrm", workload_history_path)
    assert set(dlrm.components) <= {"noise", "bursts"} and dlrm.noise_std < 0.02  # allocations barely move
    assert long_run_peak(dlrm) < 1.1
    loads = workload_for(YEAR, [-5, 1, 9], seed=0, source="alibaba-genai", history_path=workload_history_path)
    assert loads.shape == (3, 8760) and np.mean(loads > 1.0) < 0.003
    assert "alibaba" not in json.dumps(load_calibration()).lower()
