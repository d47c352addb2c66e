"""A cache of parsed source files, kept outside the repository and keyed by each file's content.

Turning text into numbers is the slow part of reading years of history, so a reader's parse step
(text -> arrays, before any convention is applied) is stored as a numpy ``.npz`` file (plain arrays:
no pickle, no JSON) named by the parser, its version and the SHA-256 of the file's bytes. An edited
file hashes to a new name, so a stale entry is never read; a damaged entry is parsed again.

Where: ``$EGLB_CACHE`` if set (``off``, ``0`` or ``no`` turns caching off), else
``$XDG_CACHE_HOME/eglb/parsed``, else ``~/.cache/eglb/parsed``. Readers take ``cache=True`` (that
folder), ``cache=False`` (no cache) or a folder of their own.

A cache folder that cannot be created, read or written costs time, never the run: the reader warns
once per folder (:class:`CacheWarning`) and goes on without it.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.files import atomic_write, read_bytes

CACHE_ENV = "EGLB_CACHE"
_OFF = ("off", "0", "no", "false")

#: A cache setting: True (the default folder), False (off), or a folder.
CacheSetting = bool | str | Path


class CacheWarning(UserWarning):
    """The parsed-file cache could not be used; files are parsed without it."""


_warned: set[str] = set()


def _unusable(folder: Path, why: str) -> None:
    """Warn once per folder that the cache is off for it."""
    if str(folder) not in _warned:
        _warned.add(str(folder))
        warnings.warn(
            f"parsed-file cache {folder} is unusable ({why}); reading without it (set ${CACHE_ENV} to another folder, "
            f"or to 'off')",
            CacheWarning,
            stacklevel=3,
        )


def cache_folder(cache: CacheSetting = True) -> Path | None:
    """The folder a cache setting names, or None when caching is off."""
    if cache is False:
        return None
    if cache is not True:
        return Path(cache)
    configured = os.environ.get(CACHE_ENV)
    if configured is not None and configured.strip():
        return None if configured.strip().lower() in _OFF else Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "eglb" / "parsed"


def parsed(
    path: Path,
    parser: str,
    version: int,
    parse: Callable[[bytes], dict[str, np.ndarray]],
    cache: CacheSetting = True,
    required: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """``parse(bytes of path)``, from the cache when this content was parsed before.

    Args:
        path: the source file.
        parser: a name for the parse step (part of the cache key).
        version: bump it whenever the parse step's output changes (part of the cache key).
        parse: bytes -> named arrays (numbers, booleans or fixed-width strings; never objects).
        cache: see :func:`cache_folder`.
        required: names every parse result holds: a stored entry without one of them is parsed again.
    """
    raw = read_bytes(path)
    folder = cache_folder(cache)
    if folder is None:
        return parse(raw)
    entry = folder / f"{parser}-v{version}-{hashlib.sha256(raw).hexdigest()}.npz"
    try:
        if folder.exists() and not folder.is_dir():
            _unusable(folder, "it is a file, not a folder")
            return parse(raw)
        stored_entry = entry.is_file()  # a regular file: never a device or pipe that np.load would read forever
    except OSError as exc:  # e.g. a folder without permission to look inside
        _unusable(folder, exc.strerror or str(exc))
        return parse(raw)
    if stored_entry:
        try:
            with np.load(entry, allow_pickle=False) as stored:
                if set(required) <= set(stored.files):
                    return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            pass  # a damaged entry is parsed again and rewritten
    arrays = parse(raw)
    objects = [name for name, values in arrays.items() if np.asarray(values).dtype.kind == "O"]
    if objects:
        raise TypeError(f"parser {parser!r} returned object arrays {objects}; the cache stores plain arrays only")

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)

    try:
        atomic_write(entry, write)
    except (OSError, InputError) as exc:  # atomic_write reports an unwritable folder as InputError
        _unusable(folder, str(exc))
    return arrays
