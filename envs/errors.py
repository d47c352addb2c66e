"""The one exception type for user mistakes.

Everything a user can get wrong (a file, a column, a value, a command-line argument) raises
:class:`InputError` with a message that names the place and says what was expected. The command-line
programs catch it, print the message on one line and exit with status 2; library users can catch it too
(it is a ``ValueError``).
"""

from pathlib import Path


class InputError(ValueError):
    """Bad input data or a bad argument; the message says where and what was expected."""


class SolverError(RuntimeError):
    """An optimization solver failed or reported a status other than optimal; never a silent number."""


#: How many characters of a value an error message quotes (a damaged cell can hold megabytes).
SHOWN_CHARS = 60


def shown(value, limit: int = SHOWN_CHARS) -> str:
    """``value`` quoted for an error message: repr of its text (numpy scalars as plain values), cut to ``limit`` characters."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # np.float64(inf) -> inf, np.str_('x') -> 'x'
    if isinstance(value, int) and value.bit_length() > 3 * limit:  # repr() of a huge integer is slow or refused
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f" ... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + f" ... ({len(text):,} characters)"


def existing_folder(path: str | Path, what: str, hint: str = "") -> Path:
    """``path`` as a Path if it is a folder; else InputError naming ``what`` and saying whether it is a file or missing."""
    folder = Path(path)
    if folder.is_dir():
        return folder
    state = "is a file, not a folder" if folder.exists() else "does not exist"
    raise InputError(f"{what} {folder} {state}{hint}")
