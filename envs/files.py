"""Reading tables, JSON, tensors and arrays with clear errors, and writing files atomically.

Readers name the file, the line (1-based, the header is line 1) and the column of any bad value;
writers write to a temporary file in the target folder and rename it over the target, so a crash
never leaves a half-written result or checkpoint. Readers of saved state (:func:`read_json`,
:func:`load_tensors`, :func:`load_arrays`) bound what they read before they allocate it and run no
code from the file.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from eglb.envs.errors import InputError, shown
from eglb.envs.validation import require_bounded

#: Largest file a reader takes, in MB (``$EGLB_MAX_FILE_MB`` overrides): every source file of the
#: history folder is under 3 MB; a file of gigabytes is a wrong path (or /dev/zero), not data.
MAX_FILE_MB = 256
MAX_FILE_ENV = "EGLB_MAX_FILE_MB"


def max_file_bytes() -> int:
    """The size limit of :func:`read_bytes`, in bytes (``$EGLB_MAX_FILE_MB`` or :data:`MAX_FILE_MB`)."""
    configured = os.environ.get(MAX_FILE_ENV, "").strip()
    try:
        megabytes = float(configured) if configured else MAX_FILE_MB
    except ValueError:
        raise InputError(f"${MAX_FILE_ENV} must be a number of MB, got {shown(configured)}") from None
    if not 0 < megabytes < 1e9:
        raise InputError(f"${MAX_FILE_ENV} must be a positive number of MB, got {shown(configured)}")
    return int(megabytes * 1024 * 1024)


def read_bytes(path: Path) -> bytes:
    """The bytes of a data file; InputError if it is missing, a folder, not a regular file (a device,
    pipe or socket: /dev/zero would never end) or larger than :func:`max_file_bytes`."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise InputError(f"missing file {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read file {path}: {exc.strerror}") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(f"{path} is a folder, not a file")
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"{path} is not a regular file (a device, pipe or socket); expected a data file")
    limit = max_file_bytes()
    if status.st_size > limit:
        raise InputError(
            f"file {path} has {_megabytes(status.st_size)}; data files over {_megabytes(limit)} are refused "
            f"(a wrong file? set ${MAX_FILE_ENV} to raise the limit)"
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(status.st_size + 1)  # bounded even if the file grows meanwhile (read(n) allocates n bytes)
    except OSError as exc:
        raise InputError(f"cannot read file {path}: {exc.strerror}") from None
    if len(raw) > status.st_size:
        raise InputError(f"file {path} grew while being read; read it once it is complete")
    return raw


def _megabytes(size: int) -> str:
    megabytes = size / 2**20
    return f"{megabytes:,.0f} MB" if megabytes >= 10 else f"{megabytes:.3g} MB"


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 text of a data file (a byte-order mark is dropped); InputError naming the line of a
    bad byte or of a NUL character (a binary file, or UTF-16)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"file {path} is not UTF-8 text: {exc.reason} at byte {exc.start} (line {line}); save it as UTF-8"
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        raise InputError(
            f"file {path} is not UTF-8 text: a NUL character on line {text.count(chr(10), 0, nul) + 1} (a binary file, or UTF-16)"
        )
    return text


def first_repeated(names) -> str | None:
    """The first name that appears a second time in ``names``, or None."""
    seen = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def check_csv_shape(text: str, path: Path) -> None:
    """Refuse a CSV text whose header repeats a column name or whose rows have another number of
    fields than the header (blank lines aside): readers that fill short rows with empty cells, or
    take a longer row's first field as an index, would misread such a file silently."""
    if '"' not in text:  # no quoted field: count the commas of each line (ten times faster than the csv module)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        counts = np.fromiter((line.count(",") for line in lines), dtype=np.int64, count=len(lines))
        filled = np.fromiter((bool(line) for line in lines), dtype=bool, count=len(lines))
        wrong = filled & (counts != counts[0])
        if filled[0] and not wrong.any() and first_repeated(name.strip() for name in lines[0].split(",")) is None:
            return
    reader = csv.reader(io.StringIO(text, newline=None))  # any line ending, as pandas reads them
    try:
        header = next(reader, None)
        if header is None:
            return
        repeated = first_repeated(name.strip() for name in header)
        if repeated is not None:
            raise InputError(f"file {path}, line 1: column {shown(repeated)} appears twice in the header")
        for record in reader:
            if record and len(record) != len(header):
                raise InputError(f"file {path}, line {reader.line_num}: {len(record)} fields, the header has {len(header)}")
    except csv.Error as exc:  # e.g. a cell of more than 131072 characters
        raise InputError(f"file {path}, line {reader.line_num}: not a readable CSV table ({exc})") from None


def read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV file as text cells, raising InputError if it is missing, unreadable, misshapen or lacks a column.

    Blank lines stay as rows of empty cells, so that data row k is on file line k + 2 (:func:`line_of`).
    """
    path = Path(path)
    text = decode_text(read_bytes(path), path)
    check_csv_shape(text, path)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"file {path} is not a readable CSV table: {str(exc).strip()}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        found = ", ".join(map(repr, table.columns))
        found = found if len(found) <= 200 else found[:200] + " ..."  # a binary file's "header" can be megabytes
        raise InputError(f"file {path} has no column {missing[0]!r} (columns found: {found})")
    table = table.fillna("")
    blank = (table == "").all(axis=1).to_numpy()
    rows = len(table) - int(np.argmin(blank[::-1])) if not blank.all() else 0  # trailing blank lines are no rows
    if rows == 0:
        raise InputError(f"file {path} has a header but no rows")
    return table.iloc[:rows]


#: Longest region, gateway or scenario name a file may give: names label tables and plots, and a
#: plot's size grows with its longest label (a 5,000-character name made one plot take minutes).
MAX_NAME_CHARS = 100


def require_name(name: str, where: str, what: str) -> str:
    """``name`` if it is a usable name (1 to MAX_NAME_CHARS printable characters); else InputError at ``where``."""
    if not name:
        raise InputError(f"{where}: empty {what} name")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(f"{where}: {what} name {shown(name, 40)} is longer than {MAX_NAME_CHARS} characters")
    if not name.isprintable():
        raise InputError(f"{where}: {what} name {shown(name)} holds control characters")
    return name


def line_of(row: int) -> int:
    """The 1-based file line of a 0-based data row (line 1 is the header)."""
    return row + 2


def numeric_column(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column as float64, raising InputError at the first empty, non-numeric, non-finite or overflowing cell
    (beyond :data:`eglb.envs.validation.MAX_MAGNITUDE`)."""
    text = table[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: expected a finite number, got {shown(table[column].iloc[row])}"
        )
    require_bounded(values, f"column {column!r}", lambda index: f"file {path}, line {line_of(index[0])}")
    return values


#: ISO 8601 date and hour, optional minutes, seconds and fraction, optional UTC designator or offset.
_ISO_TIME = r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"


def timestamp_column(table: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column of UTC timestamps as datetime64[s], strictly parsed; InputError at the first bad cell.

    Accepted: ISO 8601 ``YYYY-MM-DD HH[:MM[:SS[.f]]]`` (or with ``T``), naive (read as UTC) or with
    ``Z`` / ``+00:00``. Anything else is refused with the line named: day-first dates (22/09/2022),
    other offsets (the files declare UTC; convert them first), impossible dates, text.
    """
    text = table[column].str.strip()
    parts = text.str.fullmatch(_ISO_TIME)
    fields = text.str.extract(_ISO_TIME)
    bad = ~parts.to_numpy(dtype=bool)
    offset = fields[6].fillna("Z").to_numpy(dtype=str)
    wrong_zone = ~bad & ~np.isin(offset, ("Z", "+00:00", "-00:00", "+0000", "-0000"))
    stamps = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~bad & ~wrong_zone
    if ok.any():
        f = fields[ok]
        iso = (f[0] + "-" + f[1] + "-" + f[2] + "T" + f[3] + ":" + f[4].fillna("00") + ":" + f[5].fillna("00")).to_numpy(
            dtype=str
        )
        try:
            stamps[ok] = iso.astype("datetime64[s]")
        except ValueError:  # an impossible date (2022-02-30, hour 25): find which
            for row, value in zip(np.flatnonzero(ok), iso):
                try:
                    stamps[row] = np.datetime64(value, "s")
                except ValueError:
                    bad[row] = True
    if bad.any() or wrong_zone.any():
        row = int(np.argmax(bad | wrong_zone))
        cell = table[column].iloc[row]
        if wrong_zone[row]:
            raise InputError(
                f"file {path}, line {line_of(row)}, column {column!r}: timestamps must be UTC, got offset {offset[row]} in {shown(cell)}"
            )
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: expected a timestamp like 2022-09-22 13:00 "
            f"(ISO 8601, UTC), got {shown(cell)}"
        )
    return stamps


def require_whole_hours(stamps: np.ndarray, path: Path, column: str) -> None:
    """Every timestamp starts an hour (an hourly slot); name the first line that does not."""
    off = stamps.astype(np.int64) % 3600 != 0
    if off.any():
        row = int(np.argmax(off))
        raise InputError(
            f"file {path}, line {line_of(row)}, column {column!r}: {np.datetime_as_string(stamps[row], unit='s')} is not "
            "the start of an hour; the data must be hourly"
        )


def require_consecutive_hours(hours: np.ndarray, path: Path) -> None:
    """Sorted unique hour starts [T] must have no gap; name the first missing hours."""
    steps = np.diff(hours.astype("datetime64[h]").astype(np.int64))
    if (steps > 1).any():
        k = int(np.argmax(steps > 1))
        first, missing = hours[k] + np.timedelta64(1, "h"), int(steps[k]) - 1
        last = first + np.timedelta64(missing - 1, "h")
        span = np.datetime_as_string(first, unit="h") + ("" if missing == 1 else f" .. {np.datetime_as_string(last, unit='h')}")
        raise InputError(
            f"file {path} has no row for {missing} hour{'s' if missing > 1 else ''} ({span}): hourly rows must not skip hours"
        )


def require_unique_rows(keys: np.ndarray, path: Path, what: str) -> None:
    """Raise naming the first line whose key (e.g. timestamp) repeats an earlier line's."""
    _, first = np.unique(keys, return_index=True)
    if first.size != keys.size:
        repeated = np.ones(keys.size, dtype=bool)
        repeated[first] = False
        row = int(np.argmax(repeated))
        earlier = int(np.flatnonzero(keys == keys[row])[0])
        raise InputError(f"file {path}, line {line_of(row)}: duplicated {what} (already on line {line_of(earlier)})")


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` then rename the temporary file to ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: Path, data) -> Path:
    """Standard JSON (no NaN or Infinity: a non-finite number is written as null), atomically."""
    return atomic_write_text(path, json.dumps(json_ready(data), indent=2, allow_nan=False) + "\n")


def json_ready(value):
    """``value`` with numpy types, paths and tuples turned into JSON types, and non-finite floats into None."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


@contextmanager
def exclusive_lock(folder: Path, purpose: str):
    """Hold an exclusive lock on ``folder`` (its ``.lock`` file) for the ``with`` block.

    A second process asking for the same folder gets an InputError naming the holder, instead of
    interleaving its files with the first one's. The lock dies with its process (kill -9 included).
    """
    folder = Path(folder)
    path = folder / ".lock"
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; refusing to follow it")
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise InputError(f"cannot lock {folder}: {exc.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(handle, 200, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(handle)
        raise InputError(f"{folder} is in use by {holder}; wait for it to finish or choose another folder") from None
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{purpose} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


#: Files that make a folder a training run folder (training/run_folder.py): no command writes results into one.
RUN_FOLDER_FILES = ("config.yaml", "policy.json")


def output_folder(out: Path | str, names: tuple[str, ...], overwrite: bool = False, option: str = "--out") -> Path:
    """The folder a command writes ``names`` into, created if needed, after checking that nothing is lost.

    Refused with an InputError naming ``option``: a path that is a file; a folder holding symbolic
    links; a training run folder (its results belong to training: write beside it, e.g. into a
    subfolder); a folder already holding one of ``names`` unless ``overwrite`` (results of other
    commands beside them are kept). Call it before computing (to fail fast) and again under the
    folder's lock just before writing.
    """
    path = Path(out)
    try:  # exists() raises too, for a name longer than the file system allows
        if path.exists() and not path.is_dir():
            raise InputError(f"{option} {path} exists and is not a folder")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {option} folder {path}: {exc.strerror}") from None
    require_no_symlinks(path)
    marks = [name for name in RUN_FOLDER_FILES if (path / name).is_file()]
    if marks or any(path.glob("checkpoint-*")):
        raise InputError(
            f"{option} {path} is a training run folder (it has {marks[0] if marks else 'checkpoints'}): its files belong "
            f"to the run; write these results elsewhere, e.g. {option} {path / 'evaluation'}"
        )
    held = [name for name in names if (path / name).exists()]
    if held and not overwrite:
        listed = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")
        raise InputError(
            f"{option} {path} already holds results ({listed}): pass --overwrite to replace them, or choose another folder"
        )
    return path


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete what interrupted atomic writes left behind (``.NAME.XXXX.tmp``) under ``folder``."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed


def require_no_symlinks(folder: Path) -> None:
    """Refuse a folder holding symbolic links: writing through one would land outside the folder."""
    for path in Path(folder).rglob("*"):
        if path.is_symlink():
            raise InputError(f"{path} is a symbolic link; a results or run folder must hold plain files only")


# ----------------------------------------------------------------------------------- saved state
#: Largest JSON file read (policy cards, forecaster configurations, checkpoint counters are a few KB).
MAX_JSON_BYTES = 16 * 2**20
#: Deepest nesting of lists and objects in a JSON file we read (ours nest five levels at most).
MAX_JSON_DEPTH = 32
#: Longest integer in a JSON file we read (a 128-bit random state has 39 digits).
MAX_JSON_DIGITS = 40
#: Largest torch file read (weights, checkpoints).
MAX_TENSOR_FILE_BYTES = 2**32


def _read_text(path: Path, what: str, language: str) -> str:
    """A saved file's text: a regular file (:func:`read_bytes`) of at most MAX_JSON_BYTES, UTF-8 (a byte-order mark is dropped)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_bytes says what is wrong
    if size > MAX_JSON_BYTES:
        raise InputError(f"{path} is {size:,} bytes; a {what} is at most {MAX_JSON_BYTES:,}")
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not valid {language}: it is not UTF-8 text (byte {exc.start})") from None


def _require_shallow(value, path: Path, what: str) -> dict:
    """A parsed document that is a mapping nested at most MAX_JSON_DEPTH levels."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputError(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep; a {what} is not")
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    if not isinstance(value, dict):
        raise InputError(f"{path}: expected a mapping (key: value pairs) at the top, got {type(value).__name__}")
    return value


def read_json(path: Path | str, what: str = "JSON file") -> dict:
    """A JSON file holding a mapping, read safely: at most MAX_JSON_BYTES, UTF-8, standard JSON (no
    NaN or Infinity, finite numbers, integers of at most MAX_JSON_DIGITS digits), nested at most
    MAX_JSON_DEPTH levels. Anything else is an InputError naming the file (and the line where known)."""
    path = Path(path)
    text = _read_text(path, what, "JSON")

    def constant(name: str):
        raise InputError(f"{path} is not standard JSON: {name} is not a number JSON allows (write null)")

    def number(text: str) -> float:
        value = float(text)
        if not np.isfinite(value):
            raise InputError(f"{path}: the number {text[:40]} is beyond the range of a float")
        return value

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > MAX_JSON_DIGITS:
            raise InputError(f"{path}: an integer of {len(text.lstrip('-'))} digits; at most {MAX_JSON_DIGITS} are read")
        return int(text)

    try:
        value = json.loads(text, parse_constant=constant, parse_float=number, parse_int=integer)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep; a {what} is not") from None
    return _require_shallow(value, path, what)


def read_yaml(path: Path | str, what: str = "YAML file") -> dict:
    """A YAML file holding a mapping, read safely: as :func:`read_json` (size, UTF-8, depth), with
    ``yaml.safe_load``'s types only and no anchors or aliases (which can expand a small file without bound)."""
    import yaml

    class PlainLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", self.peek_event().start_mark)
            return super().compose_node(parent, index)

    path = Path(path)
    text = _read_text(path, what, "YAML")
    try:
        value = yaml.load(text, Loader=PlainLoader)  # noqa: S506  (a SafeLoader)
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {' '.join(str(exc).split())[:300]}") from None
    except RecursionError:
        raise InputError(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep; a {what} is not") from None
    return _require_shallow(value, path, what)


def load_tensors(path: Path | str, what: str = "weights"):
    """A torch file of tensors, state dicts and plain values, loaded with ``weights_only=True``.

    Refused with an InputError naming the file: a missing, empty, oversized, corrupt or truncated
    file; one that holds anything but tensors and plain values (a pickled object, which would run
    code: torch's advice to turn weights-only loading off is never passed on); one whose
    floating-point tensors hold NaN or infinite values (named by their key).
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"cannot read {what} from {path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"cannot read {what} from {path}: the file is empty")
    if size > MAX_TENSOR_FILE_BYTES:
        raise InputError(f"cannot read {what} from {path}: {size:,} bytes, above the limit of {MAX_TENSOR_FILE_BYTES:,}")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols before refusing them
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(
            f"cannot read {what} from {path}: it is not a file of plain tensors (loading it would unpickle "
            "Python objects, which can run code): refused"
        ) from None
    except Exception:  # torch raises many kinds on a corrupt or foreign file
        raise InputError(f"cannot read {what} from {path}: not a readable torch file (corrupt or truncated)") from None
    _require_finite_tensors(data, path, what)
    return data


def _require_finite_tensors(data, path: Path, what: str, key: str = "") -> None:
    import torch

    if isinstance(data, torch.Tensor):
        if (data.is_floating_point() or data.is_complex()) and not bool(torch.isfinite(data).all()):
            raise InputError(f"cannot use {what} from {path}: tensor {key or 'at the top'!r} holds NaN or infinite values")
    elif isinstance(data, Mapping):
        for name, value in data.items():
            _require_finite_tensors(value, path, what, f"{key}.{name}" if key else str(name))
    elif isinstance(data, (list, tuple)):
        for k, value in enumerate(data):
            _require_finite_tensors(value, path, what, f"{key}[{k}]")


def load_arrays(path: Path | str, what: str, shapes: Mapping[str, tuple[int | None, ...]], max_elements: int) -> dict:
    """The arrays of a ``.npz`` file, with their shapes checked from the file's headers before loading.

    Args:
        shapes: name -> expected shape, None for a free dimension; each named array must be there.
        max_elements: most entries of any one array (the bound on a free dimension).

    Refused with an InputError naming the file and the array: a missing array, another shape,
    a non-numeric (object) array, too many entries, NaN or infinite values. Nothing is unpickled.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy"): name for name in archive.namelist()}
            for name, shape in shapes.items():
                if name not in members:
                    raise InputError(f"cannot use {what} from {path}: it has no array {name!r}")
                member = archive.getinfo(members[name])
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    if version not in ((1, 0), (2, 0)):
                        raise ValueError(f"npy format {version}")
                    read_header = (
                        np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                    )
                    found, _, dtype = read_header(handle)
                wrong = len(found) != len(shape) or any(e is not None and e != f for e, f in zip(shape, found))
                entries = float(np.prod(found, dtype=np.float64))
                if entries * dtype.itemsize > member.file_size:  # the header claims more data than the file holds
                    raise InputError(f"cannot use {what} from {path}: array {name!r} is truncated (shape {found} in its header)")
                if wrong or dtype.kind not in "biuf" or entries > max_elements:
                    expected = "(" + ", ".join("any" if e is None else str(e) for e in shape) + ")"
                    raise InputError(
                        f"cannot use {what} from {path}: array {name!r} is {dtype} of shape {found}, "
                        f"expected numbers of shape {expected} with at most {max_elements:,} entries"
                    )
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in shapes}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read {what} from {path}: not a readable .npz file ({type(exc).__name__})") from None
    for name, values in arrays.items():
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            row = int(np.argmax((~np.isfinite(values)).reshape(len(values), -1).any(axis=1))) if values.ndim else 0
            raise InputError(f"cannot use {what} from {path}: array {name!r} holds NaN or infinite values (row {row})")
    return arrays
