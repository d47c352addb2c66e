"""Region tables: which history files make up each region (a small CSV a user edits).

A table row maps a region (the name it gets in scenarios) to its carbon zone, price folder,
weather folder, annual fuel mix zone and (optionally) EIA-930 balancing authority, and says which
of these are stand-ins taken from another place. Two tables ship in ``importers/regions/``:

* ``complete14``: the 14 zones with hourly carbon, price and weather for 2021-2024;
* ``eglb2022``: the published set's ten regions mapped to their closest history data, with the
  stand-ins named (Georgia, Nevada, Belgium, Netherlands, Denmark, and Virginia's weather).

Two optional columns say how far ahead the region's prices are public (:mod:`eglb.importers.markets`):
``market`` (day-ahead, real-time or tariff) and ``published`` (``HH:MM Area/City``, the local publication
time on the day before delivery, or ``MM-DD Area/City``, the first day of a tariff year).

Write your own with the same columns (``#`` comment lines allowed, UTF-8 with or without a byte-order
mark) to add zones or regroup them. Region names have at most 100 characters and no comma; the
folder columns hold names, not paths; a timezone must be an IANA name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eglb.envs.errors import InputError, shown
from eglb.envs.files import MAX_NAME_CHARS, require_name
from eglb.importers.markets import MarketRule, parse_market_rule
from eglb.importers.sites import require_timezone
from eglb.importers.tables import read_data_table

TABLES_FOLDER = Path(__file__).with_name("regions")
SHIPPED_TABLES = ("complete14", "eglb2022")
DEFAULT_TABLE = "complete14"
COLUMNS = (
    "region",
    "carbon",
    "price",
    "weather",
    "annual_mix",
    "hourly_mix",
    "stand_in",
    "note",
    "timezone",
    "market",
    "published",
)
SIGNALS = ("carbon", "price", "weather", "mix")
#: Columns naming a folder (or zone) of the history layout: names, never paths.
FOLDER_COLUMNS = ("carbon", "price", "weather", "annual_mix", "hourly_mix")


@dataclass(frozen=True)
class Region:
    """One row of a region table.

    Attributes:
        name: the region's name in scenarios.
        carbon: zone folder under ``carbon/``.
        price: folder under ``price/``.
        weather: zone folder under ``weather/``.
        annual_mix: zone name in the annual mix file.
        hourly_mix: EIA-930 balancing authority, or None.
        stand_in: the signals taken from another place than the region itself.
        note: free text.
        timezone: IANA zone of the region's local clock (for the workload's daily cycle), or None
            for the weather file's (optional column).
        market, published: how far ahead the price series is public (optional columns; see
            :mod:`eglb.importers.markets`), or None.
        table: the table file the row came from; line: its line there.
    """

    name: str
    carbon: str
    price: str
    weather: str
    annual_mix: str
    hourly_mix: str | None = None
    stand_in: tuple[str, ...] = ()
    note: str = ""
    timezone: str | None = None
    market: str | None = None
    published: str | None = None
    table: str = ""
    line: int = 0

    def market_rule(self) -> MarketRule | None:
        """When this region's prices are public, or None if the table does not say."""
        return parse_market_rule(self.market or "", self.published or "", f"file {self.table}, line {self.line}")


def table_path(table: str | Path) -> Path:
    """The file of a shipped table name, or the path given."""
    if str(table) in SHIPPED_TABLES:
        return TABLES_FOLDER / f"{table}.csv"
    return Path(table)


def is_table_path(text: str | Path) -> bool:
    """True if ``--regions`` text names a table file rather than regions: a Path, a name ending in
    .csv (any case) without a comma, or an existing file or folder (a comma in its path included)."""
    if isinstance(text, Path):
        return True
    path = Path(text)
    try:
        exists = path.exists()
    except OSError:  # a name too long to be a path
        exists = False
    return (path.suffix.lower() == ".csv" and "," not in text) or exists


def read_region_table(table: str | Path = DEFAULT_TABLE) -> tuple[Region, ...]:
    """All rows of a region table (a shipped name or a CSV path)."""
    path = table_path(table)
    regions = []
    seen: dict[str, int] = {}
    for line, row in read_data_table(path, COLUMNS[:5]):
        where = f"file {path}, line {line}"
        empty = [c for c in COLUMNS[:5] if not row[c]]
        if empty:
            raise InputError(f"{where}: column {empty[0]!r} is empty")
        require_name(row["region"], f"{where}, column 'region'", "region")
        if "," in row["region"]:
            raise InputError(f"{where}, column 'region': {shown(row['region'])} holds a comma, which separates region names")
        for column in FOLDER_COLUMNS:
            folder = row.get(column, "")
            if len(folder) > MAX_NAME_CHARS or any(part in folder for part in ("/", "\\", "..")):
                raise InputError(f"{where}, column {column!r}: expected a folder or zone name, not a path; got {shown(folder)}")
        if row.get("timezone"):
            require_timezone(row["timezone"], f"{where}, column 'timezone'")
        stand_in = tuple(row.get("stand_in", "").replace(",", " ").split())
        unknown = [s for s in stand_in if s not in SIGNALS]
        if unknown:
            raise InputError(f"{where}, column 'stand_in': {unknown[0]!r} is not one of {', '.join(SIGNALS)}")
        if row["region"] in seen:
            raise InputError(f"{where}: region {shown(row['region'])} already on line {seen[row['region']]}")
        seen[row["region"]] = line
        parse_market_rule(row.get("market", ""), row.get("published", ""), where)  # a bad rule fails on reading
        regions.append(
            Region(
                name=row["region"],
                carbon=row["carbon"],
                price=row["price"],
                weather=row["weather"],
                annual_mix=row["annual_mix"],
                hourly_mix=row.get("hourly_mix") or None,
                stand_in=stand_in,
                note=row.get("note", ""),
                timezone=row.get("timezone") or None,
                market=row.get("market") or None,
                published=row.get("published") or None,
                table=str(path),
                line=line,
            )
        )
    return tuple(regions)


def select_regions(
    regions: str | Path | Sequence[str | Region] | None = None, table: str | Path | None = None
) -> tuple[Region, ...]:
    """The regions a user asks for, in the order asked.

    Args:
        regions: None (every row of ``table``, default ``complete14``); a shipped table name or a
            table path (its every row; see :func:`is_table_path`); region names as a sequence or one
            comma-separated string (looked up in ``table``, or in both shipped tables when no table is
            given); or :class:`Region` objects.
        table: the table names are looked up in.
    """
    if regions is None:
        return read_region_table(table or DEFAULT_TABLE)
    if isinstance(regions, (str, Path)):
        if str(regions) in SHIPPED_TABLES or is_table_path(regions):
            return read_region_table(regions)
        regions = [name.strip() for name in str(regions).split(",") if name.strip()]
    known: dict[str, Region] = {}
    for name in [table] if table is not None else SHIPPED_TABLES:
        for region in read_region_table(name):
            known.setdefault(region.name, region)
    chosen = []
    for item in regions:
        if isinstance(item, Region):
            chosen.append(item)
        elif item in known:
            chosen.append(known[item])
        else:
            where = table or " and ".join(SHIPPED_TABLES)
            listed = ", ".join(list(known)[:30]) + (f", ... ({len(known)} in all)" if len(known) > 30 else "")
            raise InputError(f"unknown region {shown(item)} (regions in {where}: {listed})")
    if not chosen:
        raise InputError("no region chosen")
    names = [r.name for r in chosen]
    repeated = [n for n in names if names.count(n) > 1]
    if repeated:
        raise InputError(f"region {shown(repeated[0])} is chosen twice")
    return tuple(chosen)
