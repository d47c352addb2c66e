"""Hostile real-world files (issue 17, causes 4 and 9, and the readers' own hostile round).

Every reader of a file a user hands over (the history folder's sources, the workload traces, the
tables a user edits, the project's CSV format) must end a damaged, truncated, binary, oversized or
special file in one clear line naming the file (InputError), a warning, or a correct result: never a
traceback, a huge allocation, a multi-kilobyte message or a silently wrong number.
"""

from __future__ import annotations

import json
import os
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from eglb.envs.csv_format import load_scenario, save_scenario
from eglb.envs.errors import InputError, shown
from eglb.envs.files import MAX_FILE_ENV
from eglb.envs.synthetic import make_synthetic
from eglb.importers import cache as parse_cache
from eglb.importers.annual_mix import read_annual_mix
from eglb.importers.cache import CacheWarning
from eglb.importers.currency import RateTable, rate_table
from eglb.importers.eia930 import read_eia930
from eglb.importers.electricitymaps import read_carbon
from eglb.importers.grid import Rows, place
from eglb.importers.history import load_history
from eglb.importers.openmeteo import read_weather
from eglb.importers.prices import read_conventions, read_prices
from eglb.importers.regions import read_region_table, select_regions
from eglb.importers.water import FACTORS_FILE, water_parameters
from eglb.importers.workload import fit_source
from eglb.importers.workload_traces import (
    AZURE_HEADER,
    BLOOM_HEADER,
    DLRM_HEADER,
    GENAI_FILE,
    GENAI_HEADER,
    HourlyTrace,
    read_alibaba_dlrm,
    read_alibaba_genai,
    read_azure_llm,
    read_bloom_power,
)
from history_files import (
    hours_from,
    make_history,
    stamp,
    write_annual_mix,
    write_carbon,
    write_eia930,
    write_price,
    write_weather,
)

#: The longest error line a user should ever see.
LONGEST_MESSAGE = 600


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    monkeypatch.setenv("EGLB_CACHE", "off")


def one_clear_line(error: pytest.ExceptionInfo, path: Path | None = None) -> str:
    """The message of an InputError, checked to be one short line naming ``path``."""
    message = str(error.value)
    assert "\n" not in message and len(message) <= LONGEST_MESSAGE, f"{len(message)} characters: {message[:300]}"
    if path is not None:
        assert str(path) in message, message
    return message


# ------------------------------------------------------------------------------------------ every reader
GENAI_ROWS = [
    "2024-11-15 16:30:00,TXT_2_IMG,SUCCEED,32.0,G0000,63.0,26.0,1.0,30.0,M0000,0",
    "2024-11-15 16:45:10,TXT_2_IMG,SUCCEED,10.0,G0001,93.0,,4.0,40.0,M0001,0",
    "2024-11-15 19:15:00,INPAINTING,PROCESSING,7.0,G0005,5.0,26.0,1.0,30.0,M0003,0",
]
DLRM_ROWS = [
    "i1,HN,,1,1,1,1,0,0,1,1,1,1,1,,,100",
    "i2,CN,,2,2,1,1,0,0,1,1,1,1,1,10,20,7300.5",
    "i3,CN,,2,2,1,1,0,0,1,1,1,1,1,30,40,",
]
AZURE_ROWS = ["2023-11-16 18:15:00.0000000,100,10", "2023-11-16 18:59:59.9999999,200,20", "2023-11-16 19:30:00.5000000,400,40"]
BLOOM_ROWS = ["2022-09-22 00,2700.0", "2022-09-22 01,2261.3", "2022-09-22 03,1300"]
REGION_TABLE = (
    "region,carbon,price,weather,annual_mix,hourly_mix,stand_in,note,timezone\n"
    "Dallas,US-TEX-ERCO,US-TEX-ERCO,US-TEX-ERCO,US-TEX-ERCO,ERCO,,ERCOT,America/Chicago\n"
    "Frankfurt,DE-LU,DE-LU,DE-LU,DE,,,DE-LU,\n"
)
CONVENTIONS = (
    "folder,currency,header_currency,time,utc_offset,timezone,label,duplicates,note\n"
    "XX,EUR,EUR,local-dst-24,,Europe/Berlin,start,in-order,x\nYY,KRW,KRW,fixed,9,,start,error,y\n"
)
RATES = "currency,usd_per_unit,source,date\nUSD,1.0,identity,\nEUR,1.07,x,2025-03-27\n"


def text_file(name: str, header, rows, newline: str = "\n"):
    def write(folder: Path) -> Path:
        path = folder / name
        lines = [header if isinstance(header, str) else ",".join(header), *rows]
        path.write_bytes((newline.join(lines) + newline).encode())
        return path

    return write


def scenario_folder(folder: Path) -> Path:
    return save_scenario(make_synthetic(1, hours=6), folder / "scenario") / "signals.csv"


#: reader -> (write a small valid file into a folder and return its path, read that path)
READERS = {
    "carbon": (
        lambda d: write_carbon(d / "XX_2022_hourly.csv", "2022-03-01T00", [300 + k for k in range(48)]),
        lambda p: read_carbon(p, year=2022),
    ),
    "price": (
        lambda d: write_price(
            d / "US-CAL-CISO_electricity_prices_2022.csv",
            "USD",
            [(stamp(h), 40.0 + k) for k, h in enumerate(hours_from("2022-03-01T00", 48))],
        ),
        lambda p: read_prices(p, convention="US-CAL-CISO", year=2022),
    ),
    "eia930": (
        lambda d: write_eia930(d / "ERCO_NG_&_avgCI.csv", "2022-03-01T00", np.tile([1.0, 2, 3, 0, 5, 6, 7, 8], (48, 1))),
        lambda p: read_eia930(p, year=2022),
    ),
    "annual mix": (
        lambda d: write_annual_mix(
            d / "mix_2022.csv", {"DE": (0.026, 0.10, 0.245, 0.068, 0.561), "BE": (0.0, 0.07, 0.12, 0.49, 0.32)}
        ),
        read_annual_mix,
    ),
    "genai": (text_file("lora.csv", GENAI_HEADER, GENAI_ROWS), read_alibaba_genai),
    "dlrm": (text_file("dlrm.csv", DLRM_HEADER, DLRM_ROWS), read_alibaba_dlrm),
    "azure": (text_file("conv.csv", AZURE_HEADER, AZURE_ROWS, "\r\n"), lambda p: read_azure_llm("conv", p)),
    "bloom": (text_file("AI_workload.csv", BLOOM_HEADER, BLOOM_ROWS), read_bloom_power),
    "region table": (text_file("regions.csv", REGION_TABLE.rstrip("\n"), []), read_region_table),
    "price conventions": (text_file("conventions.csv", CONVENTIONS.rstrip("\n"), []), read_conventions),
    "exchange rates": (text_file("rates.csv", RATES.rstrip("\n"), []), RateTable.read),
    "csv format": (scenario_folder, lambda p: load_scenario(p.parent)),
}


def fingerprint(result) -> str:
    """The content of a reader's result, for comparing two reads."""
    if isinstance(result, tuple) and len(result) == 2 and hasattr(result[0], "to_csv"):
        return result[0].to_csv()
    if isinstance(result, HourlyTrace):
        return repr((result.timestamps.tolist(), {k: v.tolist() for k, v in result.series.items()}, result.coverage.tolist()))
    if hasattr(result, "price"):  # a Scenario
        return repr((result.regions, result.price.tolist(), result.workload.tolist(), result.timestamps.tolist()))
    if isinstance(result, RateTable):
        return repr(result.rates)
    return repr(result).replace(str(Path.cwd()), "")


def lines(raw: bytes) -> list[bytes]:
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n").split(b"\n")


def first_field_repeated(raw: bytes) -> bytes:
    header, *rows = lines(raw)
    return b"\n".join([header + b"," + header.split(b",")[0]] + [row + b",x" for row in rows]) + b"\n"


def short_first_row(raw: bytes) -> bytes:
    header, first, *rows = lines(raw)
    return b"\n".join([header, first.rsplit(b",", 1)[0], *rows]) + b"\n"


def huge_cell(raw: bytes) -> bytes:
    header, first, *rows = lines(raw)
    return b"\n".join([header, first.replace(b",", b"," + b"9" * 200_000 + b"x,", 1), *rows]) + b"\n"


HOSTILE_CONTENTS = {
    "empty": lambda raw: b"",
    "header only": lambda raw: lines(raw)[0] + b"\n",
    "binary garbage": lambda raw: np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    "a NUL byte": lambda raw: raw[:30] + b"\x00" + raw[30:],
    "UTF-16": lambda raw: raw.decode("utf-8").encode("utf-16"),
    "a repeated column": first_field_repeated,
    "a short row": short_first_row,
    "a cell of 200,000 characters": huge_cell,
}
HARMLESS_CONTENTS = {
    "a byte-order mark": lambda raw: b"\xef\xbb\xbf" + raw,
    "CRLF line endings": lambda raw: b"\r\n".join(lines(raw)) + b"\r\n",
    "CR line endings": lambda raw: b"\r".join(lines(raw)) + b"\r",
    "no final newline": lambda raw: b"\n".join(lines(raw)),
}


def replace_with(make):
    def special(path: Path) -> None:
        path.unlink()
        make(path)

    return special


SPECIAL_FILES = {
    "a symbolic link to /dev/zero": (replace_with(lambda p: p.symlink_to("/dev/zero")), "not a regular file"),
    "a named pipe": (replace_with(os.mkfifo), "not a regular file"),
    "a folder": (replace_with(lambda p: p.mkdir()), "is a folder, not a file"),
    "missing": (lambda p: p.unlink(), "missing file"),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("content", HOSTILE_CONTENTS)
def test_damaged_files_end_in_one_line_naming_the_file(tmp_path, reader, content):
    write, read = READERS[reader]
    path = write(tmp_path)
    path.write_bytes(HOSTILE_CONTENTS[content](path.read_bytes()))
    with pytest.raises(InputError) as error:
        read(path)
    one_clear_line(error, path)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("content", HARMLESS_CONTENTS)
def test_byte_order_marks_and_line_endings_read_the_same(tmp_path, reader, content):
    write, read = READERS[reader]
    path = write(tmp_path)
    expected = fingerprint(read(path))
    path.write_bytes(HARMLESS_CONTENTS[content](path.read_bytes()))
    assert fingerprint(read(path)) == expected


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("special", SPECIAL_FILES)
def test_special_files_are_refused_before_reading(tmp_path, reader, special):
    write, read = READERS[reader]
    path = write(tmp_path)
    make, message = SPECIAL_FILES[special]
    make(path)
    with pytest.raises(InputError, match=message) as error:
        read(path)  # /dev/zero would be read forever, a pipe would block forever
    one_clear_line(error, path)


@pytest.mark.parametrize("reader", READERS)
def test_files_over_the_size_limit_are_refused_unread(tmp_path, reader, monkeypatch):
    write, read = READERS[reader]
    path = write(tmp_path)
    monkeypatch.setenv(MAX_FILE_ENV, "0.00004")  # 41 bytes: every file above is larger
    with pytest.raises(InputError, match=f"MB; data files over 3.91e-05 MB are refused .*\\${MAX_FILE_ENV}") as error:
        read(path)
    one_clear_line(error, path.parent if reader == "csv format" else path)  # a scenario folder's first file is refused


def test_the_size_limit_bounds_a_sparse_file_of_gigabytes(tmp_path):
    path = tmp_path / "XX_2022_hourly.csv"
    with open(path, "wb") as handle:
        handle.truncate(4 << 30)  # 4 GiB of zeros, no disk used
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="has 4,096 MB; data files over 256 MB are refused"):
            read_carbon(path, year=2022)
        assert tracemalloc.get_traced_memory()[1] < 50e6
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------ cause 4: weather JSON
def weather_file(tmp_path: Path) -> Path:
    return write_weather(tmp_path / "2022.json", "2022-06-01T00", [20.0, 21.0, 22.0], [60, 70, 80], 0)


def edited_weather(tmp_path: Path, change) -> Path:
    path = weather_file(tmp_path)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))  # writes Infinity, NaN and integers of any size, as a damaged file may hold
    return path


def setting(key, value):
    return lambda document: document.__setitem__(key, value)


def hourly(key, value):
    return lambda document: document["hourly"].__setitem__(key, value)


def value_at(variable, k, value):
    return lambda document: document["hourly"][variable].__setitem__(k, value)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            setting("utc_offset_seconds", float("inf")),
            r"utc_offset_seconds is inf; expected whole minutes within -43200 .. 50400",
        ),
        (setting("utc_offset_seconds", float("nan")), r"utc_offset_seconds is nan; expected whole minutes"),
        (setting("utc_offset_seconds", 1e30), r"utc_offset_seconds is 1e\+30; expected"),
        (setting("utc_offset_seconds", 10**400), r"utc_offset_seconds is an integer of about 400 digits; expected"),
        (setting("utc_offset_seconds", 1.5), r"utc_offset_seconds is 1.5; expected whole minutes"),
        (setting("utc_offset_seconds", 60 * 3600), r"utc_offset_seconds is 216000; expected"),
        (setting("utc_offset_seconds", True), r"no numeric 'utc_offset_seconds'"),
        (setting("latitude", "north"), r"latitude must be a number of degrees within -90 .. 90, got 'north'"),
        (setting("latitude", 10**400), r"latitude must be a number of degrees .*an integer of about 400 digits"),
        (setting("latitude", None), r"latitude must be a number of degrees within -90 .. 90, got None"),
        (setting("longitude", {"east": 1}), r"longitude must be a number of degrees within -180 .. 180"),
        (setting("elevation", "high"), r"elevation must be a number of metres, got 'high'"),
        (setting("hourly_units", "°C"), r"'hourly_units' must be an object of units by variable, got '°C'"),
        (setting("timezone", ["Asia/Kolkata"]), r"'timezone' must be a time zone name"),
        (value_at("temperature_2m", 1, 10**400), r"hourly.time index 1: hourly.temperature_2m is an integer of about 400 digits"),
        (value_at("temperature_2m", 2, True), r"hourly.time index 2: hourly.temperature_2m is True, not a number"),
        (value_at("temperature_2m", 0, "x" * 10_000), r"hourly.temperature_2m is 'xxxx.*\(10,000 characters\), not a number"),
        (
            value_at("time", 1, "2022-06-01"),
            r"hourly.time index 1: expected a local time like 2022-01-31T13:00, got '2022-06-01'",
        ),
        (value_at("time", 1, "2" * 10_000), r"hourly.time index 1: expected a local time .*\(10,000 characters\)"),
        (value_at("time", 2, "2022-02-30T00:00"), r"hourly.time index 2: '2022-02-30T00:00' is not a valid date and time"),
        (hourly("time", []), r"'hourly.time' must be a non-empty list"),
        (hourly("time", ["", "", ""]), r"hourly.time index 0: expected a local time"),
        (
            lambda d: d["hourly_units"].__setitem__("temperature_2m", "F" * 10_000),
            r"hourly_units.temperature_2m is 'FFF.*characters\)",
        ),
    ],
)
def test_malformed_weather_files_are_one_line_errors(tmp_path, change, message):
    path = edited_weather(tmp_path, change)
    with pytest.raises(InputError, match=message) as error:
        read_weather(path, cache=False)
    one_clear_line(error, path)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"hourly":' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
        ('{"utc_offset_seconds": 1' + "0" * 5000 + ', "hourly": {}}', "not a readable JSON file"),
        ('{"utc_offset_seconds": 0, "utc_offset_seconds": 3600, "hourly": {}}', "key 'utc_offset_seconds' appears twice"),
        ('{"latitude": 1.0, "hourly": {"time": ["2022-06-01T00:00", "2022', r"line 1: not valid JSON"),
    ],
)
def test_deep_huge_and_ambiguous_json_is_refused(tmp_path, text, message):
    path = tmp_path / "2022.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as error:
        read_weather(path, cache=False)
    one_clear_line(error, path)


def test_weather_metadata_has_no_nan_when_the_elevation_is_absent(tmp_path):
    _, metadata = read_weather(edited_weather(tmp_path, lambda d: d.pop("elevation")), cache=False)
    assert metadata["elevation"] is None and metadata["latitude"] == 19.086115


def test_a_year_of_equal_weather_times_is_a_short_error(tmp_path):
    # Every stamp the same: one hour with 8,760 disagreeing rows, which a message once listed in full (850 KB).
    hours = 8760
    path = write_weather(
        tmp_path / "2022.json", "2022-01-01T00", np.linspace(0, 20, hours), [50.0] * hours, 0, times=["2022-06-01T00:00"] * hours
    )
    data, metadata = read_weather(path, cache=False)
    rows = Rows.from_frames([(data, metadata)], ("temperature_c", "relative_humidity_pct"))
    with pytest.raises(InputError, match=r"8760 rows for 2022-06-01 00:00 UTC disagree .*; and 8,757 more rows\)") as error:
        place(rows, "2022-06-01T00", 24, zone="IN-WE", signal="weather")
    one_clear_line(error)


# ------------------------------------------------------------------------- cause 4: workload traces
def trace(tmp_path: Path, name: str, header, rows) -> Path:
    return text_file(name, header, rows)(tmp_path)


def test_a_deletion_time_of_1e15_is_refused_before_allocating(tmp_path):
    path = trace(tmp_path, "dlrm.csv", DLRM_HEADER, DLRM_ROWS[:2] + ["i9,CN,,2,2,1,1,0,0,1,1,1,1,1,30,40,1e15"])
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"line 4, column 'deletion_time': expected seconds within 100,000 hours") as error:
            read_alibaba_dlrm(path)  # the hour axis to second 1e15 would take 2 TiB
        assert tracemalloc.get_traced_memory()[1] < 50e6
    finally:
        tracemalloc.stop()
    one_clear_line(error, path)


@pytest.mark.parametrize(
    "name, header, rows, read, message",
    [
        (
            "dlrm.csv",
            DLRM_HEADER,
            ["i1,HN,,1,1,1,1,0,0,1,1,1,1,1,,,", "i2,HN,,1,1,1,1,0,0,1,1,1,1,1,,,"],
            read_alibaba_dlrm,
            "no row has a creation_time, scheduled_time or deletion_time",
        ),
        (
            "dlrm.csv",
            DLRM_HEADER,
            ["i1,HN,,1,1,1e308,1,0,0,1,1,1,1,1,0,0,7200", "i2,HN,,1,1,1e308,1,0,0,1,1,1,1,1,0,0,7200"],
            read_alibaba_dlrm,
            r"line 2, column 'gpu_request': expected a number below 1e\+15",
        ),
        (
            "lora.csv",
            GENAI_HEADER,
            [GENAI_ROWS[0], "9999-11-15 16:30:00" + GENAI_ROWS[0][19:]],
            read_alibaba_genai,
            r"line 3, column 'gmt_create': expected a date and time between 1678-01-01",  # datetime64[ns] wrapped it to 1816
        ),
        (
            "lora.csv",
            GENAI_HEADER,
            [GENAI_ROWS[0], "2190-11-15 16:30:00" + GENAI_ROWS[0][19:]],
            read_alibaba_genai,
            r"line 3, column 'gmt_create': expected a time within 100,000 hours \(11 years\) of line 2's",
        ),
        ("lora.csv", GENAI_HEADER, [GENAI_ROWS[0].replace(",32.0,", ",1e308,")], read_alibaba_genai, "below 1e\\+15"),
        (
            "conv.csv",
            AZURE_HEADER,
            ["2023-11-16 18:15:00.0000000,1e308,10"],
            lambda p: read_azure_llm("conv", p),
            "below 1e\\+15",
        ),
        ("AI_workload.csv", BLOOM_HEADER, ["2022-09-22 00,1", "2122-09-22 00,2"], read_bloom_power, "within 100,000 hours"),
        ("AI_workload.csv", BLOOM_HEADER, ["", "2022-09-22 00,1"], read_bloom_power, "line 2: empty line inside the table"),
    ],
)
def test_trace_values_that_would_size_an_allocation_or_overflow_are_refused(tmp_path, name, header, rows, read, message):
    path = trace(tmp_path, name, header, rows)
    with pytest.raises(InputError, match=message) as error:
        read(path)
    one_clear_line(error, path)


@pytest.mark.parametrize(
    "write, read",
    [
        (lambda d: write_carbon(d / "XX_2022_hourly.csv", "2022-03-01T00", [300] * 3, stamps=["", "", ""]), read_carbon),
        (lambda d: write_price(d / "US-CAL-CISO_electricity_prices_2022.csv", "USD", [("", 1.0)] * 3), read_prices),
    ],
)
def test_empty_time_columns_are_named(tmp_path, write, read):
    path = write(tmp_path)
    with pytest.raises(
        InputError, match=r"line 2, column '[^']+': expected a timestamp like 2022-01-31 13:00:00, got ''"
    ) as error:
        read(path)
    one_clear_line(error, path)


# --------------------------------------------------------------------------- values beyond any market
def test_prices_and_generation_beyond_any_market_are_named_by_line(tmp_path):
    rows = [(stamp(h), 40.0) for h in hours_from("2022-03-01T00", 24)]
    rows[5] = (rows[5][0], 1e308)
    path = write_price(tmp_path / "KR_electricity_prices_2022.csv", "KRW", rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning on the way
        with pytest.raises(InputError, match=r"line 7: price 1e\+308 KRW/MWh is .* USD/MWh, beyond the \+-100000 USD/MWh"):
            read_prices(path, convention="KR", rates={"KRW": 2.0}, year=2022)
    generation = np.tile([1.0, 2, 3, 0, 5, 6, 7, 8], (24, 1))
    generation[3, 4] = 1e308
    path = write_eia930(tmp_path / "ERCO_NG_&_avgCI.csv", "2022-03-01T00", generation)
    with pytest.raises(InputError, match=r"line 5, column 'NG': 1e\+308 MWh in one hour is beyond"):
        read_eia930(path, year=2022)


# ---------------------------------------------------------------- cause 9: region tables and --regions
def test_a_region_table_saved_with_a_byte_order_mark_reads_as_without(tmp_path):
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    plain.write_text("# my regions\n" + REGION_TABLE)
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())  # Excel's "CSV UTF-8"
    assert [r.name for r in read_region_table(marked)] == [r.name for r in read_region_table(plain)] == ["Dallas", "Frankfurt"]


def test_a_table_path_is_recognised_by_its_extension_in_any_case(tmp_path):
    table = tmp_path / "Mine.CSV"
    table.write_text(REGION_TABLE)
    assert [r.name for r in select_regions(str(table))] == ["Dallas", "Frankfurt"]
    with pytest.raises(InputError, match=r"^missing file .*nowhere\.CSV$"):
        select_regions(str(tmp_path / "nowhere.CSV"))
    folder_with_comma = tmp_path / "a,b"
    folder_with_comma.mkdir()
    (folder_with_comma / "t.csv").write_text(REGION_TABLE)
    assert len(select_regions(str(folder_with_comma / "t.csv"))) == 2  # an existing file, commas or not
    with pytest.raises(InputError, match="is a folder, not a file"):
        select_regions(str(folder_with_comma))


#: A table a user edits: (reader, the valid text, an edit, the message the edited table must give).
TABLE_MISTAKES = {
    "region table: unknown time zone": (
        read_region_table,
        REGION_TABLE,
        ("America/Chicago", "Mars/Olympus"),
        r"line 2, column 'timezone': unknown timezone 'Mars/Olympus'",
    ),
    "region table: long name": (
        read_region_table,
        REGION_TABLE,
        ("Dallas", "D" * 5000),
        r"line 2, column 'region': region name 'DDD.*is longer than 100 characters",
    ),
    "region table: comma in a name": (
        read_region_table,
        REGION_TABLE,
        ("Dallas", '"Dal,las"'),
        r"line 2, column 'region': 'Dal,las' holds a comma",
    ),
    "region table: a path as folder": (
        read_region_table,
        REGION_TABLE,
        ("Dallas,US-TEX-ERCO", "Dallas,../../etc"),
        r"line 2, column 'carbon': expected a folder or zone name",
    ),
    "region table: control character": (
        read_region_table,
        REGION_TABLE,
        ("Dallas", "Dal\tlas"),
        r"line 2, column 'region': region name 'Dal\\tlas' holds control characters",
    ),
    "region table: huge cell": (
        read_region_table,
        REGION_TABLE,
        ("ERCOT", "n" * 200_000),
        r"is not a readable CSV table: field larger than field limit",
    ),
    "region table: repeated column": (
        read_region_table,
        REGION_TABLE,
        ("hourly_mix", "region"),
        r"line 1: column 'region' appears twice in the header",
    ),
    "rates: USD not 1": (
        RateTable.read,
        RATES,
        ("USD,1.0", "USD,5"),
        r"line 2, column 'usd_per_unit': the rate of USD is 1 USD per USD, got 5.0",
    ),
    "rates: 1e308": (
        RateTable.read,
        RATES,
        ("1.07", "1e308"),
        r"line 3, column 'usd_per_unit': expected a positive rate of USD per EUR within",
    ),
    "rates: 1e-320": (RateTable.read, RATES, ("1.07", "1e-320"), r"expected a positive rate of USD per EUR within 1e-09"),
    "rates: year -5": (
        RateTable.read,
        "currency,usd_per_unit,year\nEUR,1.0,2022\n",
        ("2022", "-5"),
        r"line 2, column 'year': expected a year 1900..2200, got '-5'",
    ),
    "rates: long currency": (
        RateTable.read,
        RATES,
        ("EUR,", "E" * 10_000 + ","),
        r"column 'currency': expected a three-letter currency code",
    ),
    "conventions: NaN offset": (
        read_conventions,
        CONVENTIONS,
        ("local-dst-24,,", "local-dst-24,nan,"),
        r"line 2, column 'utc_offset': expected hours \(-14..14\), got 'nan'",
    ),
    "conventions: bad currency": (
        read_conventions,
        CONVENTIONS,
        ("KRW,KRW", "K1,KRW"),
        r"line 3: column 'currency': expected a three-letter currency code",
    ),
    "conventions: long time zone": (
        read_conventions,
        CONVENTIONS,
        ("Europe/Berlin", "E" * 10_000),
        r"unknown timezone 'EEE.*\(10,000 characters\)",
    ),
}


@pytest.mark.parametrize("mistake", TABLE_MISTAKES)
def test_edited_tables_name_file_line_and_column(tmp_path, mistake):
    read, text, (old, new), message = TABLE_MISTAKES[mistake]
    assert old in text
    path = tmp_path / "table.csv"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError, match=message) as error:
        read(path)
    one_clear_line(error, path)


def test_a_long_unknown_region_name_gives_a_short_message():
    with pytest.raises(InputError, match=r"unknown region 'XXX.*\(5,000 characters\)") as error:
        select_regions("X" * 5000)
    one_clear_line(error)


@pytest.fixture(scope="module")
def small_history(tmp_path_factory):
    return make_history(tmp_path_factory.mktemp("history"), years=(2022,))


def test_a_bad_weather_time_zone_names_the_weather_file(small_history, tmp_path):
    root = tmp_path / "history"
    root.symlink_to(small_history)
    weather = small_history / "weather" / "DE-LU" / "2022.json"
    original = weather.read_text()
    try:
        weather.write_text(original.replace('"Europe/Berlin"', '"Europe/Atlantis"'))
        with pytest.raises(
            InputError, match=r"2022.json, key 'timezone' \(region 'Frankfurt' has no timezone of its own\): unknown"
        ):
            load_history(root, regions="Frankfurt", table=small_history / "my_regions.csv", years=2022, hours="0:24")
    finally:
        weather.write_text(original)


def test_an_unusable_cache_warns_once_and_the_run_goes_on(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    monkeypatch.setenv("EGLB_CACHE", str(not_a_folder))
    monkeypatch.setattr(parse_cache, "_warned", set())
    path = READERS["carbon"][0](tmp_path)
    with pytest.warns(CacheWarning, match="cache .*cache is unusable \\(it is a file, not a folder\\); reading without it"):
        data, _ = read_carbon(path, year=2022)
    np.testing.assert_allclose(data["carbon_t_mwh"], (300 + np.arange(48)) / 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per folder, not once per file
        read_carbon(path, year=2022)
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    monkeypatch.setenv("EGLB_CACHE", str(read_only))
    monkeypatch.setattr("eglb.importers.cache.atomic_write", _refuse_to_write)
    with pytest.warns(CacheWarning, match="read-only is unusable \\(cannot write"):
        read_carbon(path, year=2022)


def _refuse_to_write(path, write):
    raise InputError(f"cannot write {path}: Permission denied")  # what atomic_write says in a read-only folder


def test_a_cache_entry_without_the_arrays_a_reader_needs_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("EGLB_CACHE", str(tmp_path / "cache"))
    path = READERS["carbon"][0](tmp_path)
    expected = read_carbon(path, year=2022)[0]
    (entry,) = (tmp_path / "cache").glob("*.npz")
    np.savez(entry, unrelated=np.zeros(3))
    assert read_carbon(path, year=2022)[0].equals(expected)


# --------------------------------------------------------------- cause 9: workload fits name the file
def test_a_workload_fit_error_names_the_trace_file(tmp_path):
    path = tmp_path / GENAI_FILE
    path.parent.mkdir(parents=True)
    rows = [f"2024-11-20 {h:02d}:00:00,TXT_2_IMG,SUCCEED,30.0,G0000,63.0,26.0,1.0,30.0,M0000,0" for h in range(20)]
    text_file(path.name, GENAI_HEADER, rows)(path.parent)
    with pytest.raises(InputError, match=rf"workload source 'alibaba-genai': cannot fit .* of file {path} \(20 hours") as error:
        fit_source("alibaba-genai", history_path=tmp_path)
    one_clear_line(error, path)


# ------------------------------------------------------------------------ tables a user edits


def test_exchange_rate_mappings_refuse_what_cannot_be_a_rate():
    with pytest.raises(InputError, match="exchange rate for EUR: .* got an integer of about 400 digits"):
        rate_table({"EUR": 10**400})
    with pytest.raises(InputError, match="exchange rate for USD: .* got 1e\\+300"):
        rate_table({"USD": 1e300})


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: "", r"must hold a mapping with entries onsite, offsite and pue"),
        (lambda t: "- 1\n- 2\n", r"must hold a mapping"),
        (lambda t: "\x00\x01", r"is not UTF-8 text: a NUL character"),
        (lambda t: t.replace("6.0e-5", "abc"), r"onsite.coefficients_deg_f\[0\] must be a finite number, got 'abc'"),
        (lambda t: t.replace("6.0e-5", ".nan"), r"onsite.coefficients_deg_f\[0\] must be a finite number, got nan"),
        (lambda t: t.replace("[6.0e-5, -0.01, 0.61, -10.40]", "5"), r"entry 'onsite.coefficients_deg_f' must be a list, got 5"),
        (
            lambda t: t.replace(
                "{natural_gas: 300, coal: 450, nuclear: 600, oil: 350, other: 475, solar: 0, hydro: 0, wind: 0}", "[1]"
            ),
            r"entry 'offsite.tables.eglb.factors' must be a mapping, got \[1\]",
        ),
        (
            lambda t: t.replace("fossil_fuels: other", "fossil_fuels: [other]"),
            r"entry 'offsite.tables.eglb.fossil_fuels' must be a text",
        ),
        (lambda t: "!!python/object/apply:os.system ['echo pwned']\n", r"is not valid YAML: 'could not determine a constructor"),
        (lambda t: "a: " + "[" * 10_000 + "]" * 10_000 + "\n", r"nested too deeply"),
    ],
)
def test_water_parameter_files_are_checked_entry_by_entry(tmp_path, edit, message):
    path = tmp_path / "water.yml"
    path.write_text(edit(FACTORS_FILE.read_text()))
    with pytest.raises(InputError, match=message) as error:
        water_parameters(path=path)
    one_clear_line(error, path)


def test_water_switches_are_checked_in_the_table_that_uses_them(tmp_path):
    path = tmp_path / "water.yml"
    path.write_text(FACTORS_FILE.read_text().replace("fuel: hydro}", "fuel: unobtainium}"))
    with pytest.raises(InputError, match=r"switch offsite.tables.macknick-median.switches.hydro_evaporation needs enabled"):
        water_parameters(table="macknick-median", path=path)


# --------------------------------------------------------------------------- the project's CSV format
@pytest.fixture
def scenario_copy(tmp_path):
    return save_scenario(make_synthetic(1, hours=6), tmp_path / "scenario")


def rewrite(path: Path, old: bytes, new: bytes) -> None:
    path.write_bytes(path.read_bytes().replace(old, new))


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (
            lambda f: [rewrite(f / n, b"Texas", b"T" * 5000) for n in ("regions.csv", "signals.csv")],
            r"regions.csv, line 2, column 'region': region name",
        ),
        (
            lambda f: rewrite(f / "workload.csv", b"Texas", b"T\x07exas"),
            r"workload.csv, line 2, column 'gateway': gateway name 'T\\x07exas' holds control",
        ),
        (
            lambda f: rewrite(f / "scenario.json", b'"name": "', b'"name": "' + b"n" * 10_000),
            r"scenario.json: scenario name 'nnn.*longer than 100",
        ),
        (
            lambda f: (f / "scenario.json").write_text('{"mu_water": 1' + "0" * 400 + "}"),
            r"mu_water must be a number \(USD per unit\), got an integer",
        ),
        (
            lambda f: (f / "scenario.json").write_text("[" * 100_000 + "]" * 100_000),
            r"scenario.json is not a readable JSON header",
        ),
        (
            lambda f: replace_with(lambda p: p.symlink_to("/dev/zero"))(f / "scenario.json"),
            r"scenario.json is not a regular file",
        ),
        (
            lambda f: rewrite(f / "signals.csv", b"\n2022-09-22T00:00:00,Texas,", b"\n2022-09-22T00:00:00,Texas,1e308,0,"),
            r"signals.csv, line 2: 7 fields, the header has 5",
        ),
        (
            lambda f: rewrite(f / "signals.csv", b"price_usd_mwh,", b"carbon_t_mwh,"),
            r"signals.csv, line 1: column 'carbon_t_mwh' appears twice",
        ),
    ],
)
def test_csv_format_names_file_line_and_column(scenario_copy, corrupt, message):
    corrupt(scenario_copy)
    with pytest.raises(InputError, match=message) as error:
        load_scenario(scenario_copy)
    one_clear_line(error)


def test_csv_format_values_beyond_the_objective_range_are_named_by_line(scenario_copy):
    signals = scenario_copy / "signals.csv"
    header, first, *rest = signals.read_text().splitlines()
    cells = first.split(",")
    cells[2] = "1e308"
    signals.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    with pytest.raises(InputError, match=r"signals.csv, line 2: column 'price_usd_mwh' = 1e\+308 is beyond 1e\+12"):
        load_scenario(scenario_copy)


def test_csv_format_blank_lines_keep_line_numbers_true(scenario_copy):
    workload = scenario_copy / "workload.csv"
    header, *rows = workload.read_text().splitlines()
    rows[2] = rows[2].rsplit(",", 1)[0] + ",-1"
    workload.write_text("\n".join([header, rows[0], "", *rows[1:]]) + "\n\n\n")  # a blank line, and trailing ones
    with pytest.raises(InputError, match=r"workload.csv, line 3, column 'gateway': empty gateway name"):
        load_scenario(scenario_copy)
    workload.write_text("\n".join([header, *rows]) + "\n\n\n")
    with pytest.raises(InputError, match=r"workload.csv, line 4: column 'load_mw' must be >= 0"):
        load_scenario(scenario_copy)


# -------------------------------------------------------- cause 9: a NaN forecaster blamed on itself
def test_a_forecaster_that_predicts_nan_is_blamed_not_the_inputs():
    from eglb.agents.horizon import WindowPlanner
    from eglb.envs.forecast import Forecaster
    from eglb.envs.observation import ObservationBuilder, ObservationScale

    class Damaged(Forecaster):
        name = "damaged"

        def predict(self, scenario, t, horizon, rng=None):
            rows = np.ones((horizon, 3 * scenario.n_regions + scenario.n_gateways))
            rows[0, 1] = np.nan  # the price of region 1, lead 1
            return rows

    scenario = make_synthetic(1, hours=12)
    expected = (
        rf"forecaster 'damaged' predicted nan for the price of '{scenario.regions[1]}' at lead 1 \(forecast made at hour 3\)"
    )
    with pytest.raises(InputError, match=expected + ": a damaged forecaster model, not a bad input"):
        WindowPlanner(Damaged(), "none", 1).window_scenario(scenario, 3, 8, np.random.default_rng(0))
    builder = ObservationBuilder(
        scenario.n_regions, scenario.n_gateways, ObservationScale.from_scenario(scenario), forecast_hours=2, forecaster=Damaged()
    )
    with pytest.raises(InputError, match=r"forecaster 'damaged' predicted nan for the price of .* \(forecast made at hour 5\)"):
        builder.episode_rows(scenario, 5, 4, np.random.default_rng(0))


def test_shown_cuts_values_and_unwraps_numpy_scalars():
    assert shown(np.float64(np.inf)) == "inf" and shown(np.str_("x")) == "'x'"
    assert shown("y" * 1000) == repr("y" * 60) + " ... (1,000 characters)"
    assert shown(10**400) == "an integer of about 400 digits"
