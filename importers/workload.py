"""Named workload sources: generated gateway loads of any length, or a real trace over its own hours.

Sources (trace; quantity fitted; local clock of its profiles; where its figures come from):

* ``bloom``: BLOOM inference power of the published eglb-2022 set (MIT); ``power_w``; UTC (offset 0:
  its users are worldwide, and its daily profile is weak); committed in ``workload_calibration.json``.
* ``alibaba-genai``: Alibaba GenAI Stable Diffusion requests; ``exec_seconds``; label - 7 h (below);
  fitted at run time.
* ``alibaba-dlrm``: Alibaba GPU DLRM inference instances; ``gpu_seconds``; trace hour = local hour,
  weekday unknown; fitted at run time.
* ``azure-code``, ``azure-conv``: Azure LLM inference 2023 (CC BY 4.0); ``requests``; naive clock;
  rates and sub-hour figures committed, no hourly model (below).

* :func:`workload_for` draws year-long (any length) gateway loads [J, T] in MW from a source's model;
  :func:`real_workload` gives a trace's own hours as gateway loads, scaled as the published set is.
* The Alibaba traces may be used for research or study only and are not for redistribution: their
  figures are fitted from the files at run time (``$EGLB_HISTORY_DATA``) and never written into the
  repository. BLOOM's and Azure's figures are committed with their attribution notices;
  ``python -m eglb.importers.workload`` prints every fit and its validation, ``--write`` rewrites the
  committed file.
* The Azure traces span one hour: they fix no daily or weekly profile, hourly noise or bursts, so
  they cannot drive a generated year. Their committed figures (requests and tokens per hour, and
  how bursty the hour is minute by minute, including the peak five-minute rate over the mean) serve
  as real sub-hour figures, e.g. for a capacity headroom over the hourly peak.
* The GenAI trace's labelled clock has an unstated zone (anonymised by an offset); read 7 h earlier,
  its quiet hours fall at 02:00-08:00 and its midday dip at 12:00: a working-day pattern. Its first
  four days (89, 93, 86 and 63 requests a day, against 560 to 2,700 later: the service or its trace
  starting up) are left out of the fit.
* The DLRM trace has a relative clock: its model has no weekly profile, and the daily one (the data
  show none) would have an arbitrary phase.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
from eglb.envs.eglb2022 import default_data_path
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write_json
from eglb.envs.workload_model import WorkloadModel, fit, generate, long_run_peak, validation_statistics
from eglb.importers.paths import HISTORY_ENV, default_history_path
from eglb.importers.workload_traces import (
    AZURE_FILES,
    BLOOM_FILE,
    DLRM_FILE,
    GENAI_FILE,
    HourlyTrace,
    read_alibaba_dlrm,
    read_alibaba_genai,
    read_azure_llm,
    read_azure_requests,
    read_bloom_power,
)

CALIBRATION_FILE = Path(__file__).with_name("workload_calibration.json")
CALIBRATION_FORMAT = 1
#: An hour a real trace covers for at least this share is kept (at its rate over the covered part).
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class WorkloadSource:
    """A real trace as a workload source: how to read it and how to fit the model to it."""

    name: str
    file: Path  # relative to its data folder
    in_history: bool  # the history folder (else the published set)
    read: Callable[[Path], HourlyTrace]
    quantity: str
    utc_offset_hours: float
    weekly: bool
    fit_from: str | None  # first hour (trace clock) of the fit
    committable: bool  # may figures fitted from it be committed (licence)
    notice: str


BLOOM_NOTICE = (
    "Fitted to the BLOOM inference power trace (AI_workload.csv) of the published eglb-2022 data set of 'Towards "
    "Environmentally Equitable AI via Geographical Load Balancing' (Li, Yang, Wierman, Ren; ACM e-Energy 2024). "
    "MIT License, Copyright (c) 2023 Ren-Research. Permission is hereby granted, free of charge, to any person "
    'obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software '
    "without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, "
    "sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, "
    "subject to the following conditions: The above copyright notice and this permission notice shall be included in "
    'all copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY '
    "KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A "
    "PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY "
    "CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR "
    "IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."
)
AZURE_NOTICE = (
    "Azure LLM inference trace 2023 (Azure/AzurePublicDataset), CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/); cite Patel et al., 'Splitwise: Efficient generative LLM "
    "inference using phase splitting', ISCA 2024. Changed: aggregated to the figures below."
)
ALIBABA_NOTICE = (
    "Alibaba clusterdata traces: for study or research purposes only, not redistributed; figures are fitted "
    "at run time from the files."
)

SOURCES: dict[str, WorkloadSource] = {
    "bloom": WorkloadSource(
        name="bloom", file=BLOOM_FILE, in_history=False, read=read_bloom_power, quantity="power_w", utc_offset_hours=0.0,
        weekly=True, fit_from=None, committable=True, notice=BLOOM_NOTICE,
    ),
    "alibaba-genai": WorkloadSource(
        name="alibaba-genai", file=GENAI_FILE, in_history=True, read=read_alibaba_genai, quantity="exec_seconds",
        utc_offset_hours=-7.0, weekly=True, fit_from="2024-11-19T07", committable=False, notice=ALIBABA_NOTICE,
    ),
    "alibaba-dlrm": WorkloadSource(
        name="alibaba-dlrm", file=DLRM_FILE, in_history=True, read=read_alibaba_dlrm, quantity="gpu_seconds",
        utc_offset_hours=0.0, weekly=False, fit_from=None, committable=False, notice=ALIBABA_NOTICE,
    ),
    **{
        f"azure-{kind}": WorkloadSource(
            name=f"azure-{kind}", file=file, in_history=True, read=partial(read_azure_llm, kind), quantity="requests",
            utc_offset_hours=0.0, weekly=False, fit_from=None, committable=True, notice=AZURE_NOTICE,
        )
        for kind, file in AZURE_FILES.items()
    },
}  # fmt: skip
#: Sources with an hourly model (the Azure traces are too short for one).
MODEL_SOURCES = ("bloom", "alibaba-genai", "alibaba-dlrm")


def _source(name: str) -> WorkloadSource:
    if name not in SOURCES:
        raise InputError(f"unknown workload source {name!r} (known: {', '.join(SOURCES)})")
    return SOURCES[name]


def source_path(name: str, history_path: str | Path | None = None, published_path: str | Path | None = None) -> Path:
    """The file of a source: under the history folder or the published set's folder."""
    source = _source(name)
    if source.in_history:
        return Path(history_path or default_history_path()) / source.file
    return Path(published_path or default_data_path()) / source.file


def _existing_path(name: str, history_path: str | Path | None, published_path: str | Path | None) -> Path:
    """The file of a source; InputError naming it and the variable to set when it is absent."""
    path = source_path(name, history_path, published_path)
    if not path.is_file():
        variable = HISTORY_ENV if _source(name).in_history else "EGLB2022_DATA"
        raise InputError(f"workload source {name!r}: missing file {path} (set ${variable} or pass its folder)")
    return path


def read_source(name: str, history_path: str | Path | None = None, published_path: str | Path | None = None) -> HourlyTrace:
    """The hourly trace of a source; InputError naming the file and the variable to set when it is absent."""
    return _source(name).read(_existing_path(name, history_path, published_path))


def fitted_series(name: str, trace: HourlyTrace) -> tuple[np.ndarray, np.ndarray]:
    """(values [T], timestamps [T]) a source's model is fitted to: fully covered hours from ``fit_from`` on."""
    source = _source(name)
    keep = np.ones(trace.n_hours, dtype=bool)
    if source.fit_from is not None:
        keep = trace.timestamps >= np.datetime64(source.fit_from)
    return trace.full_hours(source.quantity)[keep], trace.timestamps[keep]


def fit_source(name: str, history_path: str | Path | None = None, published_path: str | Path | None = None) -> WorkloadModel:
    """Fit the model to a source's trace file now (see the module docstring for the per-source choices)."""
    if _source(name).name not in MODEL_SOURCES:
        raise InputError(
            f"workload source {name!r} is a one-hour trace: it fixes no daily or weekly profile, hourly noise or "
            f"bursts, so it cannot drive generated hours; use real_workload({name!r}, ...) for its own hours, or one of "
            f"{', '.join(MODEL_SOURCES)}"
        )
    path = source_path(name, history_path, published_path)
    stat = path.stat() if path.is_file() else None
    key = (stat.st_mtime_ns, stat.st_size) if stat else None
    return _fit_file(name, str(path), key, str(history_path or ""), str(published_path or ""))


@lru_cache(maxsize=16)
def _fit_file(name: str, path: str, file_key, history_path: str, published_path: str) -> WorkloadModel:
    # file_key (modification time and size) is part of the cache key: an edited file is fitted again.
    source = SOURCES[name]
    trace = read_source(name, history_path or None, published_path or None)
    values, timestamps = fitted_series(name, trace)
    try:
        return fit(
            values, timestamps, source.utc_offset_hours, weekly=source.weekly, source=name, unit=trace.units[source.quantity]
        )
    except InputError as exc:  # fit() speaks of its arguments; the user needs to know which file they came from
        raise InputError(
            f"workload source {name!r}: cannot fit the workload model to {source.quantity!r} of file {trace.path} "
            f"({trace.n_hours} hours, {int((trace.coverage >= 1).sum())} fully covered): {exc}"
        ) from None


def load_calibration() -> dict:
    """The committed figures (BLOOM's model and Azure's figures, with their notices)."""
    data = json.loads(CALIBRATION_FILE.read_text())
    if data.get("format") != CALIBRATION_FORMAT:
        raise InputError(f"file {CALIBRATION_FILE}: expected format {CALIBRATION_FORMAT}, got {data.get('format')!r}")
    return data


@lru_cache(maxsize=4)
def calibrated_model(name: str) -> WorkloadModel:
    """A committed model (only sources whose licence allows committing its figures: "bloom")."""
    models = load_calibration()["models"]
    if name not in models:
        raise InputError(f"no committed workload model {name!r} in {CALIBRATION_FILE} (committed: {', '.join(models)})")
    return WorkloadModel.from_json(models[name], where=f"file {CALIBRATION_FILE}, model {name!r}")


def workload_model(source: str | WorkloadModel, history_path: str | Path | None = None) -> WorkloadModel:
    """The model of a source: committed for "bloom", fitted from the files for the Alibaba traces, or as given."""
    if isinstance(source, WorkloadModel):
        return source
    if isinstance(source, str) and source in SOURCES and SOURCES[source].committable and source in MODEL_SOURCES:
        return calibrated_model(source)
    return fit_source(str(source), history_path)


def workload_for(
    timestamps,
    gateway_utc_offsets,
    seed: int,
    peak_mw: float = 1.0,
    source: str | WorkloadModel = "bloom",
    history_path: str | Path | None = None,
) -> np.ndarray:
    """Gateway loads [J, T] in MW drawn from a source's workload model.

    Args:
        timestamps: [T] consecutive UTC hour starts (datetime64), e.g. a whole year.
        gateway_utc_offsets: [J] UTC offset (hours) of each gateway's local time, or [J, T] per hour
            (daylight saving time).
        seed: random seed; the same seed (and arguments) gives the same array.
        peak_mw: MW of each gateway's long-run peak: a share PEAK_QUANTILE (99.9 %) of a long run's
            hours lies at or below it (see :func:`eglb.envs.workload_model.long_run_peak`).
        source: "bloom" (committed figures), "alibaba-genai" or "alibaba-dlrm" (fitted from the history
            folder at run time), or a :class:`WorkloadModel`.
        history_path: the history folder (default ``$EGLB_HISTORY_DATA`` or ../shared/data/history).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"argument 'seed': expected an integer >= 0, got {seed!r}")
    model = workload_model(source, history_path)
    return generate(model, timestamps, gateway_utc_offsets, np.random.default_rng(int(seed)), peak_mw=peak_mw)


def trace_workload(trace: HourlyTrace, quantity: str, n_gateways: int, peak_mw: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A real trace's own hours as gateway loads: (timestamps [T], loads [J, T] in MW).

    Hours covered for at least MIN_COVERAGE are kept (in practice only a first or last hour is
    partial), at the trace's rate over the covered part (value / coverage); every gateway carries
    the series scaled so that its largest hour is ``peak_mw``, as the published set scales BLOOM.
    """
    if isinstance(n_gateways, bool) or not isinstance(n_gateways, (int, np.integer)) or n_gateways < 1:
        raise InputError(f"argument 'n_gateways': expected a positive integer, got {n_gateways!r}")
    if not (isinstance(peak_mw, (int, float)) and np.isfinite(peak_mw) and peak_mw > 0):
        raise InputError(f"argument 'peak_mw': expected a positive number of MW, got {peak_mw!r}")
    keep = trace.coverage >= MIN_COVERAGE
    positions = np.flatnonzero(keep)
    if positions.size == 0:
        raise InputError(f"trace {trace.source!r} ({trace.path}) covers no hour for {MIN_COVERAGE:.0%} or more")
    inner = ~keep[positions[0] : positions[-1] + 1]
    if inner.any():
        hour = trace.timestamps[positions[0] + int(np.argmax(inner))]
        raise InputError(f"trace {trace.source!r} ({trace.path}) has no data in hour {hour}: its hours are not consecutive")
    rate = trace.values(quantity)[keep] / trace.coverage[keep]
    if not rate.max() > 0:
        raise InputError(f"trace {trace.source!r} ({trace.path}): quantity {quantity!r} is zero in every hour")
    return trace.timestamps[keep], np.tile(rate / rate.max() * float(peak_mw), (int(n_gateways), 1))


def real_workload(
    source: str,
    n_gateways: int,
    peak_mw: float = 1.0,
    quantity: str | None = None,
    history_path: str | Path | None = None,
    published_path: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A source's real trace over its own hours: (timestamps [T] on the trace's clock, loads [J, T] in MW).

    ``quantity`` defaults to the one its model is fitted to. For "bloom" this is exactly the published
    scaling (Power / max Power per gateway).
    """
    trace = read_source(source, history_path, published_path)
    return trace_workload(trace, quantity or SOURCES[source].quantity, n_gateways, peak_mw)


def azure_figures(kind: str, history_path: str | Path | None = None) -> dict:
    """Figures of one Azure LLM trace: rates per hour over its window and its minute-by-minute burstiness.

    ``window_minutes`` (first to last request), ``requests_per_hour``, ``context_tokens_per_hour``,
    ``generated_tokens_per_hour`` (totals / window), and over the whole minutes and five-minute blocks
    inside the window: ``minute_cv`` (standard deviation / mean of requests per minute),
    ``minute_autocorrelation`` (lag one), ``peak_5min_to_mean`` (largest five-minute request rate over
    the window's mean rate).
    """
    requests = read_azure_requests(_existing_path(f"azure-{kind}", history_path, None))
    ns = requests.times.astype("datetime64[ns]").astype(np.int64)
    first, last = ns.min(), ns.max()
    window_hours = (last - first) / 3.6e12
    minute = 60_000_000_000
    start = -(-first // minute) * minute  # first whole minute
    whole = int((last - start) // minute)
    inside = (ns >= start) & (ns < start + whole * minute)
    per_minute = np.bincount((ns[inside] - start) // minute, minlength=whole).astype(float)
    per_block = per_minute[: whole // 5 * 5].reshape(-1, 5).sum(axis=1)
    mean_rate = requests.times.size / window_hours
    centred = per_minute - per_minute.mean()
    return {
        "window_minutes": float(window_hours * 60),
        "requests": int(requests.times.size),
        "requests_per_hour": float(mean_rate),
        "context_tokens_per_hour": float(requests.context_tokens.sum() / window_hours),
        "generated_tokens_per_hour": float(requests.generated_tokens.sum() / window_hours),
        "minute_cv": float(per_minute.std() / per_minute.mean()),
        "minute_autocorrelation": float(np.sum(centred[1:] * centred[:-1]) / np.sum(centred**2)),
        "peak_5min_to_mean": float(per_block.max() * 12 / mean_rate),
    }


def calibration(history_path: str | Path | None = None, published_path: str | Path | None = None) -> dict:
    """The committable figures, computed now: BLOOM's model and the Azure figures, with their notices."""
    return {
        "format": CALIBRATION_FORMAT,
        "written_by": "python -m eglb.importers.workload --write",
        "models": {"bloom": fit_source("bloom", published_path=published_path).to_json()},
        "azure": {kind: azure_figures(kind, history_path) for kind in AZURE_FILES},
        "notices": {"bloom": BLOOM_NOTICE, "azure": AZURE_NOTICE},
    }


def _format_model(model: WorkloadModel) -> str:
    lines = [
        f"  level {model.level:.6g} {model.unit}; local clock UTC{model.utc_offset_hours:+g} h; {model.hours} hours; "
        f"components {', '.join(model.components) or 'none'}",
        f"  daily profile (kept {model.daily_kept:.2f}): " + " ".join(f"{v:.2f}" for v in model.daily_profile),
        f"  weekly profile Mon..Sun (kept {model.weekly_kept:.2f}): " + " ".join(f"{v:.2f}" for v in model.weekly_profile),
        f"  noise: std {model.noise_std:.4f}, lag-one autocorrelation {model.noise_autocorrelation:.3f}, "
        f"exponent {model.noise_exponent:.3f}",
        f"  bursts: probability {model.burst_probability:.4f}/h (threshold {model.burst_threshold:.3f}), "
        f"excess generalized Pareto scale {model.burst_scale:.3f} shape {model.burst_shape:.3f}",
        f"  floor {model.floor:.3f}; weekly growth of the level over the trace x{model.weekly_growth:.3f} (not generated); "
        f"long-run peak {long_run_peak(model):.3f} x level",
    ]
    return "\n".join(lines)


def _format_validation(table: dict) -> str:
    lines = [f"  {'statistic':<22}{'real':>10}{'generated median':>18}{'5%':>10}{'95%':>10}"]
    for name, (real, median, low, high) in table.items():
        lines.append(f"  {name:<22}{real:>10.3f}{median:>18.3f}{low:>10.3f}{high:>10.3f}")
    return "\n".join(lines)


def _format_recovery(model: WorkloadModel, seed: int = 0, years: int = 20) -> str:
    hours = np.arange(years * 52 * 168) * 3600 + 4 * 24 * 3600  # 1970-01-05 is a Monday
    timestamps = hours.astype("datetime64[s]")
    load = generate(model, timestamps, [model.utc_offset_hours], np.random.default_rng(seed), peak_mw=long_run_peak(model))[0]
    refit = fit(load, timestamps, model.utc_offset_hours, weekly=bool(model.weekly_kept > 0))
    pairs = [
        ("mean (x level)", 1.0, float(load.mean())),
        ("noise std", model.noise_std, refit.noise_std),
        ("noise autocorrelation", model.noise_autocorrelation, refit.noise_autocorrelation),
        ("burst probability", model.burst_probability, refit.burst_probability),
        ("burst mean excess", _mean_excess(model), _mean_excess(refit)),
    ]
    lines = [f"  refit on {years} generated years: {'figure':<24}{'model':>10}{'refit':>10}"]
    for label, a, b in pairs:
        lines.append(f"  {'':<30}{label:<24}{a:>10.4f}{b:>10.4f}")
    profiles = (("daily", model.daily_profile, refit.daily_profile), ("weekly", model.weekly_profile, refit.weekly_profile))
    for label, a, b in profiles:
        if np.std(a) > 0:
            lines.append(f"  {'':<30}{label + ' profile correlation':<24}{np.corrcoef(a, b)[0, 1]:>20.4f}")
    return "\n".join(lines)


def _mean_excess(model: WorkloadModel) -> float:
    return model.burst_scale / (1.0 - model.burst_shape) if model.burst_probability > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eglb.importers.workload", description=__doc__.splitlines()[0])
    parser.add_argument("--history", help="history folder (default $EGLB_HISTORY_DATA or ../shared/data/history)")
    parser.add_argument("--published", help="published eglb-2022 folder (default $EGLB2022_DATA or ../shared/data/eglb-2022)")
    parser.add_argument("--draws", type=int, default=200, help="generated traces per validation (default 200)")
    parser.add_argument("--write", action="store_true", help=f"rewrite {CALIBRATION_FILE.name} (BLOOM and Azure figures)")
    args = parser.parse_args(argv)
    try:
        for name in MODEL_SOURCES:
            try:
                trace = read_source(name, args.history, args.published)
            except InputError as exc:
                print(f"{name}: skipped ({exc})")
                continue
            print(trace.summary())
            model = fit_source(name, args.history, args.published)
            print(f"{name} model, fitted to {SOURCES[name].quantity} ({model.unit}):")
            print(_format_model(model))
            values, timestamps = fitted_series(name, trace)
            print(f"  validation: the trace against {args.draws} generated traces of its hours (relative to the level)")
            print(_format_validation(validation_statistics(model, values, timestamps, draws=args.draws)))
            print(_format_recovery(model))
        for kind in AZURE_FILES:
            try:
                figures = azure_figures(kind, args.history)
            except InputError as exc:
                print(f"azure-{kind}: skipped ({exc})")
                continue
            print(f"azure-{kind}: " + ", ".join(f"{k} {v:.6g}" for k, v in figures.items()))
        if args.write:
            atomic_write_json(CALIBRATION_FILE, calibration(args.history, args.published))
            print(f"wrote {CALIBRATION_FILE}")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


@dataclass(frozen=True)
class FittedLoads:
    """Gateway loads of history scenarios drawn from a fitted workload model (:func:`workload_for`):
    each gateway follows the model's daily and weekly profile at its own local clock (daylight saving
    time included), with independent noise and bursts. ``eglb.importers.sites.GatewayLoads``."""

    source: str = "bloom"
    peak_mw: float = 1.0

    def __post_init__(self):
        if isinstance(self.peak_mw, bool) or not isinstance(self.peak_mw, (int, float)) or not 0 < self.peak_mw < float("inf"):
            raise InputError(f"argument 'peak_mw': expected a positive number of MW, got {self.peak_mw!r}")

    def __call__(self, timestamps: np.ndarray, sites, rng: np.random.Generator) -> np.ndarray:
        from eglb.importers.sites import utc_offsets

        if not sites:
            return np.zeros((0, len(timestamps)))
        offsets = np.stack([utc_offsets(timestamps, site.timezone) for site in sites])
        return workload_for(timestamps, offsets, seed=int(rng.integers(2**31 - 1)), peak_mw=self.peak_mw, source=self.source)

    def describe(self) -> str:
        return (
            f"fitted workload model of source {self.source!r} (importers/workload.py) at each gateway's local clock, "
            f"independent per gateway, long-run peak {self.peak_mw:g} MW per gateway"
        )
