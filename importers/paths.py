"""Where the raw history data lives: $EGLB_HISTORY_DATA, else ../shared/data/history beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

HISTORY_ENV = "EGLB_HISTORY_DATA"


def default_history_path() -> Path:
    """The history folder: $EGLB_HISTORY_DATA, else ../shared/data/history beside the repository."""
    if os.environ.get(HISTORY_ENV):
        return Path(os.environ[HISTORY_ENV])
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "history"
