"""Readers of the AI serving traces: small files in the exact formats written here, and the real files when present."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.workload_traces import (
    AZURE_FILES,
    DLRM_FILE,
    DLRM_HEADER,
    GENAI_FILE,
    GENAI_HEADER,
    read_alibaba_dlrm,
    read_alibaba_genai,
    read_azure_llm,
    read_bloom_power,
)

GENAI_ROWS = [
    "2024-11-15 16:30:00,TXT_2_IMG,SUCCEED,32.0,G0000,63.0,26.0,1.0,30.0,M0000,0",
    "2024-11-15 16:45:10,TXT_2_IMG,SUCCEED,10.0,G0001,93.0,,4.0,40.0,M0001,0",
    "2024-11-15 16:45:10,IMG_2_IMG,FAILED,5.0,G0002,12.0,26.0,8.0,30.0,M0002,1",
    "2024-11-15 17:05:00,TXT_2_IMG,PENDING,0.0,G0003,,,,,,0",
    "2024-11-15 19:00:00,TXT_2_IMG,SUCCEED,20.0,G0004,10.0,,2.0,30.0,M0001,0",
    "2024-11-15 19:00:00,TXT_2_IMG,SUCCEED,20.0,G0004,10.0,,2.0,30.0,M0001,0",
    "2024-11-15 19:15:00,INPAINTING,PROCESSING,7.0,G0005,5.0,26.0,1.0,30.0,M0003,0",
]


def write(path: Path, header, rows, newline="\n", final_newline=True) -> Path:
    text = newline.join([",".join(header) if not isinstance(header, str) else header, *rows])
    path.write_bytes((text + (newline if final_newline else "")).encode())
    return path


def changed(rows, line, column, value, header):
    """Rows with one cell replaced; ``line`` counts the header as line 1."""
    rows = [r.split(",") for r in rows]
    rows[line - 2][header.index(column)] = value
    return [",".join(r) for r in rows]


# ---------------------------------------------------------------------------------------------- GenAI


def test_genai_hours_statuses_and_quirks(tmp_path):
    trace = read_alibaba_genai(write(tmp_path / "lora.csv", GENAI_HEADER, GENAI_ROWS))
    assert [str(t) for t in trace.timestamps] == [f"2024-11-15T{h}:00:00" for h in (16, 17, 18, 19)]
    # Every status arrives; rows sharing a second and the identical row all count.
    np.testing.assert_array_equal(trace.values("requests"), [3, 1, 0, 3])
    np.testing.assert_array_equal(trace.values("exec_seconds"), [32 + 10 + 5, 0, 0, 20 + 20 + 7])
    np.testing.assert_array_equal(trace.values("images"), [1 + 4 + 8, 0, 0, 2 + 2 + 1])  # PENDING: no prompt, no image
    # Window from the first request (16:30) to the last (19:15).
    np.testing.assert_allclose(trace.coverage, [0.5, 1, 1, 0.25])
    assert trace.counts == {
        "rows": 7,
        "status SUCCEED": 4,
        "status FAILED": 1,
        "status PENDING": 1,
        "status PROCESSING": 1,
        "rows sharing a second (beyond the first)": 2,
        "rows identical to an earlier row (kept)": 1,
        "rows without prompt fields": 1,
        "empty negative_prompt_length": 4,
        "hours without requests": 1,
    }
    np.testing.assert_array_equal(np.isnan(trace.full_hours("requests")), [True, False, False, True])
    with pytest.raises(InputError, match="no quantity 'tokens'.*requests, exec_seconds, images"):
        trace.values("tokens")


@pytest.mark.parametrize(
    "line, column, value, message",
    [
        (2, "gmt_create", "2024-11-15T16:30:00", r"line 2, column 'gmt_create': expected a timestamp like 2024-11-15 16:57:50"),
        (3, "gmt_create", "2024-02-30 10:00:00", r"line 3, column 'gmt_create': expected a valid date and time"),
        (4, "predict_status", "CANCELLED", r"line 4, column 'predict_status': expected one of SUCCEED, FAILED"),
        (5, "exec_time_seconds", "", r"line 5, column 'exec_time_seconds': expected a number >= 0, got ''"),
        (6, "exec_time_seconds", "-1", r"line 6, column 'exec_time_seconds': expected a number >= 0, got '-1'"),
        (7, "exec_time_seconds", "nan", r"line 7, column 'exec_time_seconds'"),
        (8, "num_images_per_prompt", "four", r"line 8, column 'num_images_per_prompt': expected a number >= 0"),
    ],
)
def test_genai_bad_cells_name_file_line_and_column(tmp_path, line, column, value, message):
    path = write(tmp_path / "lora.csv", GENAI_HEADER, changed(GENAI_ROWS, line, column, value, GENAI_HEADER))
    with pytest.raises(InputError, match=f"file {path}, {message}"):
        read_alibaba_genai(path)


def test_genai_bad_layouts(tmp_path):
    path = tmp_path / "lora.csv"
    with pytest.raises(InputError, match=f"missing file {path}"):
        read_alibaba_genai(path)
    write(path, [*GENAI_HEADER[:3], "exec_time", *GENAI_HEADER[4:]], GENAI_ROWS)
    with pytest.raises(InputError, match=r"line 1, column 4: expected header 'exec_time_seconds', got 'exec_time'"):
        read_alibaba_genai(path)
    write(path, GENAI_HEADER, [GENAI_ROWS[0], GENAI_ROWS[1] + ",extra"])
    with pytest.raises(InputError, match=r"line 3: expected 11 fields, got 12"):
        read_alibaba_genai(path)
    write(path, GENAI_HEADER, [GENAI_ROWS[0], "", GENAI_ROWS[1]])
    with pytest.raises(InputError, match=r"line 3: empty line inside the table"):
        read_alibaba_genai(path)
    write(path, GENAI_HEADER, [])
    with pytest.raises(InputError, match="has a header but no rows"):
        read_alibaba_genai(path)
    path.write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        read_alibaba_genai(path)
    write(path, GENAI_HEADER, [*GENAI_ROWS, "", ""])  # trailing empty lines are no rows
    assert read_alibaba_genai(path).counts["rows"] == len(GENAI_ROWS)


# ---------------------------------------------------------------------------------------------- DLRM


def dlrm_row(name, role, cpu, gpu, created, scheduled, deleted):
    return f"{name},{role},app_0,{cpu},{cpu},{gpu},{gpu},25,25,120.0,120.0,640.0,800.0,8,{created},{scheduled},{deleted}"


DLRM_ROWS = [
    dlrm_row("i0", "HN", 12, 1, "", "", ""),  # existed before the trace, outlived it
    dlrm_row("i1", "HN", 12, 1, "", "", "5400.0"),  # existed before, deleted at 1.5 h
    dlrm_row("i2", "CN", 96, 0, "475.00000000000006", "475.00000000000006", "7200.000000000001"),  # float noise
    dlrm_row("i3", "HN", 8, 1, "3000.0", "3600.0", ""),  # outlived the trace
    dlrm_row("i4", "CN", 2, 0, "9000.0", "9000.5", "9900.25"),  # the largest time: the window's end
    dlrm_row("i5", "HN", 4, 2, "100.0", "", ""),  # created, never scheduled: holds nothing
]


def test_dlrm_resources_per_hour_against_direct_overlaps(tmp_path):
    trace = read_alibaba_dlrm(write(tmp_path / "dlrm.csv", DLRM_HEADER, DLRM_ROWS))
    end = 9900.25
    assert [str(t) for t in trace.timestamps] == ["1970-01-01T00:00:00", "1970-01-01T01:00:00", "1970-01-01T02:00:00"]
    np.testing.assert_allclose(trace.coverage, [1, 1, (end - 7200) / 3600])
    # (gpu, cpu, start, end) of the instances that hold resources, times rounded as documented.
    held = [(1, 12, 0.0, end), (1, 12, 0.0, 5400.0), (0, 96, 475.0, 7200.0), (1, 8, 3600.0, end), (0, 2, 9000.5, end)]
    for h in range(3):
        lo, hi = h * 3600.0, min((h + 1) * 3600.0, end)
        overlap = [max(0.0, min(e, hi) - max(s, lo)) for _, _, s, e in held]
        assert trace.values("gpu_seconds")[h] == pytest.approx(sum(g * o for (g, _, _, _), o in zip(held, overlap)), abs=1e-6)
        assert trace.values("cpu_seconds")[h] == pytest.approx(sum(c * o for (_, c, _, _), o in zip(held, overlap)), abs=1e-6)
        assert trace.values("instance_seconds")[h] == pytest.approx(sum(overlap), abs=1e-6)
    assert trace.values("gpu_seconds")[0] == pytest.approx(7200.0)  # i0 and i1 all hour; i3 starts at 3600
    assert trace.counts == {
        "instances": 6,
        "role HN": 4,
        "role CN": 2,
        "existed before the trace": 2,
        "outlived the trace": 3,
        "created but never scheduled": 1,
        "creation_time not a whole second": 1,
        "scheduled_time not a whole second": 2,
        "deletion_time not a whole second": 2,
    }


@pytest.mark.parametrize(
    "rows, message",
    [
        ([dlrm_row("a", "HN", 1, 1, "10", "20", "15")], r"line 2, column 'deletion_time': expected a time >= scheduled_time"),
        ([dlrm_row("a", "HN", 1, 1, "30", "20", "")], r"line 2, column 'scheduled_time': expected a time >= creation_time"),
        ([dlrm_row("a", "HN", 1, 1, "", "", ""), dlrm_row("a", "CN", 1, 0, "", "", "5")], r"line 3, column 'instance_sn'"),
        ([dlrm_row("a", "GPU", 1, 1, "", "", "")], r"line 2, column 'role': expected one of HN, CN, got 'GPU'"),
        ([dlrm_row("a", "HN", 1, "", "", "", "")], r"line 2, column 'gpu_request': expected a number >= 0, got ''"),
        ([dlrm_row("a", "HN", 1, 1, "t0", "", "")], r"line 2, column 'creation_time': expected a number >= 0, got 't0'"),
        ([dlrm_row("a", "HN", 1, 1, "-5", "-5", "")], r"line 2, column 'creation_time': expected a number >= 0, got '-5'"),
    ],
)
def test_dlrm_bad_rows(tmp_path, rows, message):
    path = write(tmp_path / "dlrm.csv", DLRM_HEADER, rows)
    with pytest.raises(InputError, match=f"file {path}, {message}"):
        read_alibaba_dlrm(path)


# ---------------------------------------------------------------------------------------------- Azure

AZURE_ROWS = [
    "2023-11-16 18:15:00.0000000,100,10",
    "2023-11-16 18:59:59.9999999,200,20",
    "2023-11-16 19:00:00.0000000,300,30",
    "2023-11-16 19:30:00.5000000,400,40",
]


def test_azure_crlf_seven_digits_no_final_newline(tmp_path):
    path = write(tmp_path / "conv.csv", "TIMESTAMP,ContextTokens,GeneratedTokens", AZURE_ROWS, "\r\n", final_newline=False)
    trace = read_azure_llm("conv", path)
    assert trace.source == "azure-conv"
    assert [str(t) for t in trace.timestamps] == ["2023-11-16T18:00:00", "2023-11-16T19:00:00"]
    np.testing.assert_array_equal(trace.values("requests"), [2, 2])  # 18:59:59.9999999 stays in hour 18
    np.testing.assert_array_equal(trace.values("context_tokens"), [300, 700])
    np.testing.assert_array_equal(trace.values("generated_tokens"), [30, 70])
    np.testing.assert_allclose(trace.coverage, [0.75, 1800.5 / 3600])
    assert trace.counts == {"rows": 4, "CRLF line endings": 4, "rows sharing a timestamp (beyond the first)": 0}


@pytest.mark.parametrize(
    "row, message",
    [
        ("2023-11-16T18:15:00.0000000,1,1", r"line 3, column 'TIMESTAMP': expected a timestamp like 2023-11-16 18:15:46.6805900"),
        ("2023-11-16 18:15:00.0000000+00:00,1,1", r"line 3, column 'TIMESTAMP'"),
        ("2023-11-16 18:15:00.1,1.5,1", r"line 3, column 'ContextTokens': expected an integer >= 0, got '1.5'"),
        ("2023-11-16 18:15:00.1,1,-3", r"line 3, column 'GeneratedTokens': expected an integer >= 0, got '-3'"),
    ],
)
def test_azure_bad_rows(tmp_path, row, message):
    path = write(tmp_path / "code.csv", "TIMESTAMP,ContextTokens,GeneratedTokens", [AZURE_ROWS[0], row], "\r\n")
    with pytest.raises(InputError, match=f"file {path}, {message}"):
        read_azure_llm("code", path)
    with pytest.raises(InputError, match="argument 'kind': expected one of code, conv, got 'chat'"):
        read_azure_llm("chat", path)


# ---------------------------------------------------------------------------------------------- BLOOM


def test_bloom_hours_gaps_and_duplicates(tmp_path):
    rows = ["2022-09-22 00,2700.0", "2022-09-22 01,2261.3", "2022-09-22 03,1300"]
    path = write(tmp_path / "AI_workload.csv", "Time (UTC),Power (Watt)", rows)
    trace = read_bloom_power(path)
    np.testing.assert_array_equal(trace.values("power_w"), [2700.0, 2261.3, np.nan, 1300.0])
    np.testing.assert_array_equal(trace.coverage, [1, 1, 0, 1])
    assert trace.counts == {"rows": 3, "hours without a row": 1} and trace.clock == "UTC"
    write(path, "Time (UTC),Power (Watt)", ["2022-09-22 00,2700.0", "2022-09-22 01,2261.3", "2022-09-22 00,1300"])
    with pytest.raises(InputError, match=r"line 4, column 'Time \(UTC\)': expected an hour not already on line 2"):
        read_bloom_power(path)
    write(path, "Time (UTC),Power (Watt)", ["2022-09-22 00:00,2700.0"])
    with pytest.raises(InputError, match=r"line 2, column 'Time \(UTC\)': expected a timestamp like 2022-09-22 00"):
        read_bloom_power(path)


# ---------------------------------------------------------------------------------------------- the real files


def test_real_genai_trace_matches_the_readme(workload_history_path):
    path = workload_history_path / GENAI_FILE
    trace = read_alibaba_genai(path)
    # The README's counts: 26,823 requests, 876 surplus rows on shared seconds, 184 of 554 hours empty, ...
    assert trace.n_hours == 554 and trace.counts["hours without requests"] == 184
    assert trace.counts["rows"] == 26823 and trace.counts["rows sharing a second (beyond the first)"] == 876
    assert trace.counts["rows without prompt fields"] == 25 and trace.counts["empty negative_prompt_length"] == 6215
    statuses = {s: trace.counts[f"status {s}"] for s in ("SUCCEED", "FAILED", "PENDING", "PROCESSING")}
    assert statuses == {"SUCCEED": 26392, "FAILED": 398, "PENDING": 30, "PROCESSING": 3}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    hour_of = {}
    for row in rows:
        hour_of.setdefault(row["gmt_create"][:13], []).append(float(row["exec_time_seconds"]))
    for k in (0, 100, 300, 553):
        label = str(trace.timestamps[k])[:13].replace("T", " ")
        assert trace.values("requests")[k] == len(hour_of.get(label, []))
        assert trace.values("exec_seconds")[k] == pytest.approx(sum(hour_of.get(label, [])))


def test_real_dlrm_trace_matches_the_readme(workload_history_path):
    path = workload_history_path / DLRM_FILE
    trace = read_alibaba_dlrm(path)
    assert trace.counts["instances"] == 23871
    assert trace.counts["existed before the trace"] == 7280 and trace.counts["outlived the trace"] == 8878
    assert trace.counts["creation_time not a whole second"] == 2744
    assert trace.n_hours == 744 and 0 < trace.coverage[-1] < 1 and (trace.coverage[:-1] == 1).all()
    # GPU-seconds of a few hours by direct overlap sums over the file.
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    end = max(float(r[c]) for r in rows for c in ("creation_time", "scheduled_time", "deletion_time") if r[c])
    for h in (0, 371, 743):
        lo, hi = h * 3600.0, min((h + 1) * 3600.0, end)
        total = 0.0
        for r in rows:
            if r["creation_time"] and not r["scheduled_time"]:
                continue
            start = float(r["scheduled_time"]) if r["scheduled_time"] else 0.0
            stop = float(r["deletion_time"]) if r["deletion_time"] else end
            total += float(r["gpu_request"]) * max(0.0, min(stop, hi) - max(start, lo))
        assert trace.values("gpu_seconds")[h] == pytest.approx(total, rel=1e-9)


@pytest.mark.parametrize("kind, rows, per_hour", [("code", 8819, [7717, 1102]), ("conv", 19366, [15606, 3760])])
def test_real_azure_traces(workload_history_path, kind, rows, per_hour):
    trace = read_azure_llm(kind, workload_history_path / AZURE_FILES[kind])
    assert trace.counts["rows"] == rows and trace.counts["CRLF line endings"] >= rows  # CRLF, as the README says
    np.testing.assert_array_equal(trace.values("requests"), per_hour)  # counted by `cut -c1-13 | uniq -c`
    assert (trace.coverage < 1).all()  # one hour, straddling two clock hours


def test_real_bloom_trace(published_path):
    trace = read_bloom_power(published_path / "AI_workload.csv")
    assert trace.n_hours == 457 and (trace.coverage == 1).all()
    assert trace.values("power_w").min() == 1300.0 and trace.values("power_w").max() == 2708.0
