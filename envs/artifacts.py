"""Version stamps of saved artifacts (policy cards, run configurations, checkpoints).

Every file the project saves for later loading carries ``format`` (what it is), ``format_version``
(the layout of its fields) and ``package_version`` (the eglb release that wrote it). Loading checks
the stamp and says clearly what is wrong: a file of another kind, a layout newer than this release
reads, or no stamp at all.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from eglb.envs.errors import InputError


def package_version() -> str:
    """The installed eglb release ("0+unknown" when run from a tree that was never installed)."""
    try:
        return metadata.version("eglb")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def stamp(kind: str, format_version: int) -> dict:
    """The stamp fields to put first in a saved JSON or YAML mapping."""
    return {"format": kind, "format_version": int(format_version), "package_version": package_version()}


def check_stamp(values: object, kind: str, supported: int, path: Path | str) -> dict:
    """Check a loaded mapping's stamp; returns the mapping. ``supported``: the newest layout this release reads."""
    if not isinstance(values, dict):
        raise InputError(f"{path}: expected a mapping with format {kind!r}, got {type(values).__name__}")
    found = values.get("format")
    if found != kind:
        what = "no format stamp" if found is None else f"format {found!r}"
        raise InputError(f"{path} has {what}; expected an eglb file of format {kind!r}")
    version = values.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{path}: format_version must be a positive integer, got {version!r}")
    if version > supported:
        raise InputError(
            f"{path} was written by eglb {values.get('package_version', '?')} in {kind} format {version}; "
            f"this eglb {package_version()} reads up to format {supported}: upgrade eglb to load it"
        )
    return values
