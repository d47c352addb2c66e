"""The history README's sanity tables, parsed as the independent reference for the importers' counts.

README.md holds the tables of the shared years (2021-2023, counted over those years' files pooled);
README-2024.md those of the test year (counted over the 2024 files alone). Each row gives, per zone
(or price folder), signal and UTC year: rows, missing hours, duplicated hours and (prices) how many
of those disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SECTIONS = {"Carbon": "carbon", "Weather": "weather", "Price": "price"}


@dataclass(frozen=True)
class SanityRow:
    signal: str
    folder: str
    year: int
    rows: int
    missing: int
    duplicates: int
    conflicting: int | None
    readme: str


def sanity_rows(readme: Path) -> list[SanityRow]:
    out = []
    signal = None
    for line in Path(readme).read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#### (\w+)", line)
        if heading:
            signal = SECTIONS.get(heading.group(1))
            continue
        if signal is None or not line.startswith("| ") or line.startswith("| zone") or line.startswith("| folder"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set(cells[0]) <= {"-"}:
            continue
        if signal == "price":
            folder, _, year, rows, missing, dup = cells[:6]
            match = re.match(r"(\d+) \((\d+)\)", dup)
            duplicates, conflicting = int(match.group(1)), int(match.group(2))
        else:
            folder, year, rows, missing, dup = cells[:5]
            duplicates, conflicting = int(dup), None
        out.append(SanityRow(signal, folder, int(year), int(rows), int(missing), duplicates, conflicting, Path(readme).name))
    return out
