"""Readers of real AI serving traces and of the published BLOOM power trace, each aggregated to hours.

* :func:`read_alibaba_genai`: ``workload/alibaba-genai-2026/lora_request_trace.csv``; labelled clock,
  zone not stated; requests, exec_seconds, images per hour.
* :func:`read_alibaba_dlrm`: ``workload/alibaba-gpu-v2025/disaggregated_DLRM_trace.csv``; seconds from
  the trace start; gpu_seconds, cpu_seconds, instance_seconds per hour.
* :func:`read_azure_llm`: ``workload/azure-llm-inference-2023/AzureLLMInferenceTrace_{code,conv}.csv``;
  naive clock, zone not stated; requests, context_tokens, generated_tokens per hour.
* :func:`read_bloom_power`: ``AI_workload.csv`` of the published eglb-2022 set; UTC; power_w.

The first three live in the history folder (``$EGLB_HISTORY_DATA``, default ``../shared/data/history``
beside the repository, :func:`default_history_path`); the fourth in the published set
(:func:`eglb.envs.eglb2022.default_data_path`). Each reader returns an :class:`HourlyTrace`: hour starts on the
trace's own clock, one series per quantity (``units`` says what a value means), the share of each
hour the trace observed (``coverage``) and counts of every quirk met (``counts``).

The observation window of a request trace runs from its first to its last request, that of the
instance trace from second 0 to the largest time in the file (neither publishes its end): the
first and last hours are usually covered only in part.

Quirks of the files (the history folder's README, "Known quirks") and what the readers do:

* GenAI requests: rows sharing a second are distinct requests (they differ in group, type or run
  time) and all count; rows identical in every field (19, all of one group in one burst) are kept,
  since a client submitting a prompt twice cannot be told from a doubled log line, and counted.
  Every status is an arrival (``requests``); FAILED and PROCESSING rows ran for their
  ``exec_time_seconds``, PENDING rows ran 0 s and lack their prompt fields, so they add no images.
  Unused columns may be empty (``negative_prompt_length`` is in 6,215 rows).
* DLRM instances: times are seconds on a relative clock with binary float noise
  (475.00000000000006): they are rounded to the microsecond. An instance holds its resources from
  ``scheduled_time`` to ``deletion_time``; an empty creation and scheduling time means it existed
  before the trace (from second 0), an empty deletion time that it outlived the trace (to the end);
  one created but never scheduled holds nothing (counted). Timestamps are 1970-01-01 plus the
  relative clock: neither calendar nor time of day is known.
* Azure LLM requests: CRLF line endings, 7 fractional digits of seconds, no trailing newline.
* BLOOM power: one value per hour label ``YYYY-MM-DD HH`` (UTC); an hour without a row has coverage 0.

Malformed input raises :class:`eglb.envs.errors.InputError` naming the file, the line (1-based, the header
is line 1) and the column. Sizes are bounded before anything is allocated: a trace spans at most
:data:`MAX_TRACE_HOURS` hours and a cell holds at most :data:`MAX_VALUE`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eglb.envs.eglb2022 import default_data_path
from eglb.envs.errors import InputError, shown
from eglb.envs.files import decode_text, read_bytes
from eglb.importers.paths import default_history_path

#: Environment variable naming the history folder.
GENAI_FILE = Path("workload/alibaba-genai-2026/lora_request_trace.csv")
DLRM_FILE = Path("workload/alibaba-gpu-v2025/disaggregated_DLRM_trace.csv")
AZURE_FILES = {
    "code": Path("workload/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"),
    "conv": Path("workload/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv"),
}
BLOOM_FILE = Path("AI_workload.csv")

GENAI_HEADER = (
    "gmt_create",
    "predict_type",
    "predict_status",
    "exec_time_seconds",
    "groupId",
    "prompt_length",
    "negative_prompt_length",
    "num_images_per_prompt",
    "num_inference_steps",
    "checkpoint_model_version_id",
    "num_lora",
)
GENAI_STATUSES = ("SUCCEED", "FAILED", "PENDING", "PROCESSING")
DLRM_HEADER = (
    "instance_sn",
    "role",
    "app_name",
    "cpu_request",
    "cpu_limit",
    "gpu_request",
    "gpu_limit",
    "rdma_request",
    "rdma_limit",
    "memory_request",
    "memory_limit",
    "disk_request",
    "disk_limit",
    "max_instance_per_node",
    "creation_time",
    "scheduled_time",
    "deletion_time",
)
DLRM_ROLES = ("HN", "CN")
AZURE_HEADER = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
BLOOM_HEADER = ("Time (UTC)", "Power (Watt)")

_SECOND_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_FRACTION_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?")
_HOUR_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}")
_NS_PER_HOUR = 3_600_000_000_000
#: Longest span of a trace, in hours (the real traces span hours to weeks): a longer one holds a damaged time,
#: and its hour axis would take gigabytes (a deletion_time of 1e15 s asked for 2 TiB).
MAX_TRACE_HOURS = 100_000
_SPAN_TEXT = f"{MAX_TRACE_HOURS:,} hours ({MAX_TRACE_HOURS / 8766:.0f} years)"
#: The range of datetime64[ns], the unit trace times are read in (with room for the hour axis).
_FIRST_TIME, _LAST_TIME = np.datetime64("1678-01-01T00:00:00", "s"), np.datetime64("2261-12-31T00:00:00", "s")
#: Largest value of a count or quantity cell: hourly sums of larger ones could overflow to inf.
MAX_VALUE = 1e15


@dataclass(frozen=True)
class HourlyTrace:
    """A trace aggregated to hours.

    Attributes:
        source: short name, e.g. "alibaba-genai".
        path: the file read.
        clock: what the timestamps mean (their time zone, or that the clock is relative).
        timestamps: [T] datetime64[s] hour starts, consecutive.
        coverage: [T] share of each hour inside the trace's observation window (0..1).
        series: quantity -> [T] values per hour (totals over the covered part of the hour; NaN where
            coverage is 0).
        units: quantity -> what one value means.
        counts: what the reader met: rows, statuses, quirks (name -> number).
    """

    source: str
    path: Path
    clock: str
    timestamps: np.ndarray
    coverage: np.ndarray
    series: dict[str, np.ndarray]
    units: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_hours(self) -> int:
        return int(self.timestamps.size)

    def values(self, quantity: str) -> np.ndarray:
        """[T] values of one quantity; InputError naming the quantities on offer for an unknown one."""
        if quantity not in self.series:
            raise InputError(f"trace {self.source!r} has no quantity {quantity!r} (available: {', '.join(self.series)})")
        return self.series[quantity]

    def full_hours(self, quantity: str) -> np.ndarray:
        """[T] values of hours the trace covers entirely, NaN elsewhere (what a model is fitted to)."""
        return np.where(self.coverage >= 1.0, self.values(quantity), np.nan)

    def summary(self) -> str:
        """One line: source, hours, window and counts."""
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return (
            f"{self.source}: {self.n_hours} hours {self.timestamps[0]} .. {self.timestamps[-1]} ({self.clock}), "
            f"{int((self.coverage >= 1).sum())} fully covered; {counts}"
        )


# ----------------------------------------------------------------------------------------------
# Reading cells with errors that name file, line and column


@dataclass(frozen=True)
class _Table:
    path: Path
    columns: dict[str, np.ndarray]  # column -> [R] str
    lines: np.ndarray  # [R] 1-based file line of each row
    crlf_lines: int

    def fail(self, row: int, column: str, expected: str) -> InputError:
        value = str(self.columns[column][row])
        return InputError(f"file {self.path}, line {self.lines[row]}, column {column!r}: expected {expected}, got {shown(value)}")


def _read_table(path: Path, header: tuple[str, ...]) -> _Table:
    """Rows of a CSV file with exactly ``header``; InputError on a missing file, another header or a short row."""
    path = Path(path)
    raw = read_bytes(path)
    text = decode_text(raw, path)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        found = next(reader)
    except StopIteration:
        raise InputError(f"file {path} is empty (expected the header {','.join(header)})") from None
    except csv.Error as exc:  # e.g. a cell of more than 131072 characters
        raise InputError(f"file {path}, line 1: not a readable CSV table ({exc})") from None
    if tuple(found) != header:
        for k, (want, got) in enumerate(zip(header, list(found) + [""] * len(header))):
            if want != got:
                raise InputError(f"file {path}, line 1, column {k + 1}: expected header {want!r}, got {shown(got)}")
        raise InputError(f"file {path}, line 1: expected {len(header)} columns, got {len(found)}")
    rows, lines = [], []
    blank = None
    try:
        for row in reader:
            if not row or row == [""]:
                blank = blank or reader.line_num
                continue
            if blank is not None:
                raise InputError(f"file {path}, line {blank}: empty line inside the table")
            if len(row) != len(header):
                raise InputError(f"file {path}, line {reader.line_num}: expected {len(header)} fields, got {len(row)}")
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(f"file {path}, line {reader.line_num}: not a readable CSV table ({exc})") from None
    if not rows:
        raise InputError(f"file {path} has a header but no rows")
    cells = np.array(rows, dtype=str)
    return _Table(
        path=path,
        columns={name: cells[:, k] for k, name in enumerate(header)},
        lines=np.asarray(lines),
        crlf_lines=raw.count(b"\r\n"),
    )


def _numbers(table: _Table, column: str, *, empty_allowed: bool = False, integer: bool = False) -> np.ndarray:
    """A column as float64 in 0 .. MAX_VALUE (NaN for empty cells where allowed); InputError at the first bad cell."""
    text = np.char.strip(table.columns[column])
    empty = text == ""
    expected = "an integer >= 0" if integer else "a number >= 0"
    if empty.any() and not empty_allowed:
        raise table.fail(int(np.argmax(empty)), column, expected)
    values = np.full(text.size, np.nan)
    try:
        values[~empty] = text[~empty].astype(float)
    except ValueError:
        for row in np.flatnonzero(~empty):
            try:
                float(text[row])
            except ValueError:
                raise table.fail(int(row), column, expected) from None
    bad = ~empty & ~(np.isfinite(values) & (values >= 0))
    if integer:
        bad |= ~empty & (np.nan_to_num(values) != np.round(np.nan_to_num(values)))
    if bad.any():
        raise table.fail(int(np.argmax(bad)), column, expected)
    large = ~empty & (values > MAX_VALUE)  # sums of such values over an hour would overflow to inf
    if large.any():
        raise table.fail(int(np.argmax(large)), column, f"a number below {MAX_VALUE:g} (a damaged value?)")
    return values


def _times(table: _Table, column: str, pattern: re.Pattern, expected: str) -> np.ndarray:
    """A column of naive timestamps in one exact format as datetime64[ns]; InputError at the first bad cell."""
    text = table.columns[column]
    for row, value in enumerate(text):
        if not pattern.fullmatch(value):
            raise table.fail(row, column, f"a timestamp like {expected}")
    try:
        seconds = text.astype("datetime64[s]")  # wide range: datetime64[ns] would wrap year 9999 silently
    except ValueError:  # an impossible date or hour (2022-02-30, 24:00): find which
        for row, value in enumerate(text):
            try:
                np.datetime64(value, "s")
            except ValueError:
                raise table.fail(row, column, f"a valid date and time like {expected}") from None
        raise
    outside = (seconds < _FIRST_TIME) | (seconds > _LAST_TIME)
    if outside.any():
        raise table.fail(int(np.argmax(outside)), column, f"a date and time between {_FIRST_TIME} and {_LAST_TIME}")
    times = text.astype("datetime64[ns]")  # sub-second digits kept
    hours = times.astype("datetime64[h]").astype(np.int64)
    first, last = int(np.argmin(hours)), int(np.argmax(hours))
    if hours[last] - hours[first] >= MAX_TRACE_HOURS:  # the hour axis would take gigabytes
        raise table.fail(
            last, column, f"a time within {_SPAN_TEXT} of line {table.lines[first]}'s {text[first]} (a damaged time?)"
        )
    return times


def _choices(table: _Table, column: str, allowed: tuple[str, ...]) -> np.ndarray:
    text = table.columns[column]
    bad = ~np.isin(text, allowed)
    if bad.any():
        raise table.fail(int(np.argmax(bad)), column, "one of " + ", ".join(allowed))
    return text


# ----------------------------------------------------------------------------------------------
# Aggregation to hours


def _hour_axis(first_ns: int, last_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Hour starts (datetime64[s]) covering [first, last] and the covered share of each hour."""
    first_hour, last_hour = first_ns // _NS_PER_HOUR, last_ns // _NS_PER_HOUR
    starts = np.arange(first_hour, last_hour + 1, dtype=np.int64) * _NS_PER_HOUR
    covered = np.minimum(starts + _NS_PER_HOUR, last_ns) - np.maximum(starts, first_ns)
    coverage = np.clip(covered / _NS_PER_HOUR, 0.0, 1.0)
    return (starts // 1_000_000_000).astype("datetime64[s]"), coverage


def _event_hours(times: np.ndarray, weights: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Sum each weight per hour of the event times' window [first event, last event]."""
    ns = times.astype("datetime64[ns]").astype(np.int64)
    timestamps, coverage = _hour_axis(int(ns.min()), int(ns.max()))
    index = ns // _NS_PER_HOUR - ns.min() // _NS_PER_HOUR
    series = {name: np.bincount(index, weights=w, minlength=timestamps.size) for name, w in weights.items()}
    return timestamps, coverage, series


def _interval_hours(start_s: np.ndarray, end_s: np.ndarray, weights: dict[str, np.ndarray], window_end_s: float):
    """Weighted seconds each interval [start, end) spends in each hour of [0, window_end).

    The weighted time alive before t is sum_i w_i (min(max(t, s_i), e_i) - s_i)
    = sum_{s_i < t} w_i (t - s_i) - sum_{e_i < t} w_i (t - e_i): two sorted cumulative sums.
    """
    timestamps, coverage = _hour_axis(0, int(round(window_end_s * 1e9)))
    edges = np.minimum(np.arange(timestamps.size + 1) * 3600.0, window_end_s)

    def passed_before(points: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """sum over points p < edge of weight * (edge - p), at every edge."""
        order = np.argsort(points)
        weight_sum = np.concatenate([[0.0], np.cumsum(weight[order])])
        weighted_points = np.concatenate([[0.0], np.cumsum(weight[order] * points[order])])
        k = np.searchsorted(points[order], edges, side="left")
        return edges * weight_sum[k] - weighted_points[k]

    series = {name: np.diff(passed_before(start_s, w) - passed_before(end_s, w)) for name, w in weights.items()}
    return timestamps, coverage, series


# ----------------------------------------------------------------------------------------------
# The readers


def read_alibaba_genai(path: str | Path | None = None) -> HourlyTrace:
    """The Alibaba GenAI (Stable Diffusion serving) request trace, per hour of its labelled clock.

    Quantities: ``requests`` (requests arriving in the hour, every status), ``exec_seconds``
    (execution seconds of the requests arriving in the hour, the GPU time they took) and ``images``
    (images requested by the hour's requests that carry a prompt). Default path: the history folder's
    :data:`GENAI_FILE`.
    """
    table = _read_table(path or default_history_path() / GENAI_FILE, GENAI_HEADER)
    times = _times(table, "gmt_create", _SECOND_FORMAT, "2024-11-15 16:57:50")
    status = _choices(table, "predict_status", GENAI_STATUSES)
    exec_seconds = _numbers(table, "exec_time_seconds")
    images = _numbers(table, "num_images_per_prompt", empty_allowed=True)
    no_prompt = np.isnan(images)
    timestamps, coverage, series = _event_hours(
        times, {"requests": np.ones(times.size), "exec_seconds": exec_seconds, "images": np.nan_to_num(images)}
    )
    rows = np.stack(list(table.columns.values()), axis=1)
    _, first_of_row = np.unique(rows, axis=0, return_index=True)
    counts = {"rows": int(times.size)}
    counts.update({f"status {s}": int((status == s).sum()) for s in GENAI_STATUSES})
    counts["rows sharing a second (beyond the first)"] = int(times.size - np.unique(times).size)
    counts["rows identical to an earlier row (kept)"] = int(times.size - first_of_row.size)
    counts["rows without prompt fields"] = int(no_prompt.sum())
    counts["empty negative_prompt_length"] = int((np.char.strip(table.columns["negative_prompt_length"]) == "").sum())
    counts["hours without requests"] = int((series["requests"] == 0).sum())
    return HourlyTrace(
        source="alibaba-genai",
        path=table.path,
        clock="labelled clock, time zone not stated (anonymised with an offset)",
        timestamps=timestamps,
        coverage=coverage,
        series=series,
        units={
            "requests": "requests arriving per hour (every status)",
            "exec_seconds": "execution seconds per hour of the requests arriving in it",
            "images": "images requested per hour",
        },
        counts=counts,
    )


def read_alibaba_dlrm(path: str | Path | None = None) -> HourlyTrace:
    """The Alibaba GPU-disaggregated DLRM inference-instance trace: resources held per hour.

    Quantities: ``gpu_seconds`` (GPU-seconds allocated in the hour: ``gpu_request`` times the
    seconds each instance was scheduled; / 3600 = GPUs in use), ``cpu_seconds`` (vCPU-seconds of
    ``cpu_request``) and ``instance_seconds``. Hour starts are 1970-01-01 plus the trace's relative
    clock. Default path: the history folder's :data:`DLRM_FILE`.
    """
    table = _read_table(path or default_history_path() / DLRM_FILE, DLRM_HEADER)
    names = table.columns["instance_sn"]
    _, first = np.unique(names, return_index=True)
    if first.size != names.size:
        repeated = np.ones(names.size, dtype=bool)
        repeated[first] = False
        raise table.fail(int(np.argmax(repeated)), "instance_sn", "a name not used on an earlier line")
    _choices(table, "role", DLRM_ROLES)
    gpus = _numbers(table, "gpu_request")
    cpus = _numbers(table, "cpu_request")
    raw = {c: _numbers(table, c, empty_allowed=True) for c in ("creation_time", "scheduled_time", "deletion_time")}
    # Binary float noise (475.00000000000006): the clock counts seconds; a microsecond is far below any hour.
    times = {c: np.round(v, 6) for c, v in raw.items()}
    created, scheduled, deleted = times["creation_time"], times["scheduled_time"], times["deletion_time"]
    order_checks = (("scheduled_time", "creation_time"), ("deletion_time", "scheduled_time"), ("deletion_time", "creation_time"))
    for later, earlier in order_checks:
        bad = times[later] < times[earlier]  # False wherever either is NaN
        if bad.any():
            raise table.fail(int(np.argmax(bad)), later, f"a time >= {earlier} ({times[earlier][np.argmax(bad)]})")
    stacked = np.stack([created, scheduled, deleted])
    if np.isnan(stacked).all():
        raise InputError(
            f"file {table.path}: no row has a creation_time, scheduled_time or deletion_time: the trace's window is unknown"
        )
    window_end = float(np.nanmax(stacked))
    if window_end > MAX_TRACE_HOURS * 3600:  # the hour axis runs from second 0 to the window's end
        column, row = np.unravel_index(int(np.nanargmax(stacked)), stacked.shape)
        raise table.fail(int(row), tuple(times)[column], f"seconds within {_SPAN_TEXT} of the trace's second 0 (a damaged time?)")
    predates = np.isnan(created) & np.isnan(scheduled)
    never_scheduled = ~np.isnan(created) & np.isnan(scheduled)
    start = np.where(predates, 0.0, scheduled)
    end = np.where(np.isnan(deleted), window_end, deleted)
    holds = ~never_scheduled
    start, end = start[holds], end[holds]
    timestamps, coverage, series = _interval_hours(
        start,
        end,
        {"gpu_seconds": gpus[holds], "cpu_seconds": cpus[holds], "instance_seconds": np.ones(start.size)},
        window_end,
    )
    counts = {
        "instances": int(names.size),
        "role HN": int((table.columns["role"] == "HN").sum()),
        "role CN": int((table.columns["role"] == "CN").sum()),
        "existed before the trace": int(predates.sum()),
        "outlived the trace": int(np.isnan(deleted).sum()),
        "created but never scheduled": int(never_scheduled.sum()),
    }
    for column, values in raw.items():
        present = ~np.isnan(values)
        counts[f"{column} not a whole second"] = int((present & (values != np.round(values))).sum())
    return HourlyTrace(
        source="alibaba-dlrm",
        path=table.path,
        clock="relative: 1970-01-01 00:00 is the trace's second 0 (calendar and time of day not published)",
        timestamps=timestamps,
        coverage=coverage,
        series=series,
        units={
            "gpu_seconds": "GPU-seconds allocated per hour (/ 3600 = GPUs in use)",
            "cpu_seconds": "vCPU-seconds requested per hour",
            "instance_seconds": "instance-seconds per hour (/ 3600 = instances alive)",
        },
        counts=counts,
    )


@dataclass(frozen=True)
class AzureRequests:
    """The rows of an Azure LLM inference trace: request times [N] (datetime64[ns]) and token counts [N]."""

    times: np.ndarray
    context_tokens: np.ndarray
    generated_tokens: np.ndarray
    path: Path
    crlf_lines: int


def read_azure_requests(path: str | Path) -> AzureRequests:
    """The requests of ``AzureLLMInferenceTrace_{code,conv}.csv`` (CRLF, 7 fractional digits)."""
    table = _read_table(path, AZURE_HEADER)
    return AzureRequests(
        times=_times(table, "TIMESTAMP", _FRACTION_FORMAT, "2023-11-16 18:15:46.6805900"),
        context_tokens=_numbers(table, "ContextTokens", integer=True),
        generated_tokens=_numbers(table, "GeneratedTokens", integer=True),
        path=table.path,
        crlf_lines=table.crlf_lines,
    )


def read_azure_llm(kind: str = "conv", path: str | Path | None = None) -> HourlyTrace:
    """An Azure LLM inference trace of 2023 (``kind`` "code" or "conv"), per hour of its naive clock.

    Quantities: ``requests``, ``context_tokens`` (prompt tokens) and ``generated_tokens`` per hour.
    Default path: the history folder's :data:`AZURE_FILES` [kind].
    """
    if kind not in AZURE_FILES:
        raise InputError(f"argument 'kind': expected one of {', '.join(AZURE_FILES)}, got {kind!r}")
    requests = read_azure_requests(path or default_history_path() / AZURE_FILES[kind])
    timestamps, coverage, series = _event_hours(
        requests.times,
        {
            "requests": np.ones(requests.times.size),
            "context_tokens": requests.context_tokens,
            "generated_tokens": requests.generated_tokens,
        },
    )
    return HourlyTrace(
        source=f"azure-{kind}",
        path=requests.path,
        clock="naive timestamps, time zone not stated",
        timestamps=timestamps,
        coverage=coverage,
        series=series,
        units={
            "requests": "requests arriving per hour",
            "context_tokens": "prompt tokens per hour",
            "generated_tokens": "generated tokens per hour",
        },
        counts={
            "rows": int(requests.times.size),
            "CRLF line endings": requests.crlf_lines,
            "rows sharing a timestamp (beyond the first)": int(requests.times.size - np.unique(requests.times).size),
        },
    )


def read_bloom_power(path: str | Path | None = None) -> HourlyTrace:
    """The BLOOM inference power trace of the published eglb-2022 set (``AI_workload.csv``), UTC.

    Quantity ``power_w``: the published watts of each hour. Hours between the first and last label
    without a row have coverage 0 and NaN; a repeated label is an error. Default path: the published
    set's folder (:func:`eglb.envs.eglb2022.default_data_path`).
    """
    table = _read_table(path or default_data_path() / BLOOM_FILE, BLOOM_HEADER)
    stamps = _times(table, "Time (UTC)", _HOUR_FORMAT, "2022-09-22 00")
    power = _numbers(table, "Power (Watt)")
    hours = stamps.astype("datetime64[h]").astype(np.int64)
    order = np.argsort(hours, kind="stable")
    repeated = np.flatnonzero(np.diff(hours[order]) == 0)
    if repeated.size:
        row, earlier = int(order[repeated[0] + 1]), int(order[repeated[0]])
        raise table.fail(row, "Time (UTC)", f"an hour not already on line {table.lines[earlier]}")
    first, last = int(hours.min()), int(hours.max())
    timestamps = (np.arange(first, last + 1) * 3600).astype("datetime64[s]")
    values = np.full(timestamps.size, np.nan)
    values[hours - first] = power
    coverage = np.isfinite(values).astype(float)
    return HourlyTrace(
        source="bloom",
        path=table.path,
        clock="UTC",
        timestamps=timestamps,
        coverage=coverage,
        series={"power_w": values},
        units={"power_w": "W, the published power of the BLOOM inference deployment in the hour"},
        counts={"rows": int(power.size), "hours without a row": int((coverage == 0).sum())},
    )
