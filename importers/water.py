"""Water intensity of data-center load from weather and the grid mix (SPEC section 8).

    w = WUE_onsite(Twb) + pue * EWIF        (L/kWh = m^3/MWh per unit of IT energy)

* :func:`wet_bulb_stull`: wet-bulb temperature from 2 m temperature and relative humidity (Stull 2011).
* :func:`onsite_wue`: an evaporative cooling tower's water per IT kWh at that wet-bulb temperature,
  with cycles of concentration S (blowdown), clipped below.
* :func:`offsite_ewif`: the grid mix's operational water consumption per kWh, from a named factor
  table; works on an hourly mix (EIA-930 generation per fuel, [T] per fuel) and on an annual one
  (shares per source, scalars), whose lumped "fossil_fuels" takes the factor the table names.

Every parameter and both factor tables (``eglb``, the default, and ``macknick-median``), with their
sources and switches, live in ``importers/water_factors.yml``; :func:`water_parameters` reads them
and applies per-call overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from eglb.envs.errors import InputError, shown
from eglb.envs.files import decode_text, read_bytes

FACTORS_FILE = Path(__file__).with_name("water_factors.yml")
LITRES_PER_GALLON = 3.785412
_UNIT_TO_L_PER_KWH = {"L/kWh": 1.0, "gal/MWh": LITRES_PER_GALLON / 1000.0}


@dataclass(frozen=True)
class WaterParameters:
    """Everything :func:`water_intensity` needs (read from ``water_factors.yml``, then overridden).

    Attributes:
        table: name of the off-site factor table.
        factors: fuel -> operational water consumption, L/kWh (switches applied).
        fossil_fuels: the fuel whose factor an unsplit "fossil_fuels" share takes.
        cycles: cycles of concentration S of the cooling tower (> 1).
        coefficients: (c3, c2, c1, c0) of the tower polynomial in deg F.
        min_wue: lower clip of the on-site WUE, L/kWh.
        pue: facility energy per IT energy (>= 1), multiplies the off-site term.
        source: the table's source text.
        switches: the table's switches as applied (name -> on/off).
    """

    table: str
    factors: dict[str, float]
    fossil_fuels: str
    cycles: float
    coefficients: tuple[float, float, float, float]
    min_wue: float
    pue: float
    source: str
    switches: dict[str, bool]

    def describe(self) -> dict:
        """JSON-ready description for a scenario's metadata."""
        return {
            "table": self.table,
            "factors_l_per_kwh": dict(self.factors),
            "fossil_fuels_as": self.fossil_fuels,
            "cycles_of_concentration": self.cycles,
            "min_wue_l_per_kwh": self.min_wue,
            "pue": self.pue,
            "switches": dict(self.switches),
            "source": self.source,
            "parameters_file": str(FACTORS_FILE),
        }


def _positive(value, name: str, minimum: float, strict: bool, where: str = "") -> float:
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if not np.isfinite(number) or number < minimum or (strict and number == minimum):
        relation = ">" if strict else ">="
        raise InputError(f"{where}water parameter {name!r} must be a number {relation} {minimum}, got {shown(value)}")
    return number


_KINDS = {dict: "a mapping", list: "a list", str: "a text"}


def _entry(mapping: dict, key: str, kind: type, path: Path, prefix: str = ""):
    """``mapping[key]`` if it is of ``kind``; else InputError naming the file and the entry's path."""
    name = f"{prefix}{key}"
    if key not in mapping:
        raise InputError(f"water parameters file {path}: no entry {name!r}")
    value = mapping[key]
    if not isinstance(value, kind):
        raise InputError(f"water parameters file {path}: entry {name!r} must be {_KINDS[kind]}, got {shown(value)}")
    return value


def water_parameters(
    table: str | None = None,
    cycles: float | None = None,
    pue: float | None = None,
    switches: Mapping[str, bool] | None = None,
    path: str | Path = FACTORS_FILE,
) -> WaterParameters:
    """The water model's parameters from ``path``, with any of them overridden.

    Args:
        table: off-site factor table name (default: the file's ``offsite.default_table``).
        cycles: cycles of concentration S (default: the file's, 6).
        pue: power usage effectiveness (default: the file's, 1.0).
        switches: table switches to set, e.g. ``{"hydro_evaporation": False}``.
        path: the parameters file.
    """
    path = Path(path)
    try:
        document = yaml.safe_load(decode_text(read_bytes(path), path))
    except yaml.YAMLError as exc:  # its text spans lines: one line here
        raise InputError(f"water parameters file {path} is not valid YAML: {shown(' '.join(str(exc).split()), 200)}") from None
    except RecursionError:
        raise InputError(f"water parameters file {path} is nested too deeply to be a parameters file") from None
    if not isinstance(document, dict):
        raise InputError(f"water parameters file {path} must hold a mapping with entries onsite, offsite and pue")
    where = f"file {path}: "
    onsite, offsite = _entry(document, "onsite", dict, path), _entry(document, "offsite", dict, path)
    tables = _entry(offsite, "tables", dict, path, "offsite.")
    name = table or _entry(offsite, "default_table", str, path, "offsite.")
    if name not in tables:
        raise InputError(f"no water factor table {shown(name)} in {path} (tables: {', '.join(map(str, tables))})")
    chosen = _entry(tables, name, dict, path, "offsite.tables.")
    prefix = f"offsite.tables.{name}."
    unit = _entry(chosen, "unit", str, path, prefix)
    scale = _UNIT_TO_L_PER_KWH.get(unit)
    if scale is None:
        raise InputError(f"{path}: table {name!r} has unit {shown(unit)}; expected one of {', '.join(_UNIT_TO_L_PER_KWH)}")
    given = _entry(chosen, "factors", dict, path, prefix)
    factors = {str(fuel): _positive(v, f"{name}.{fuel}", 0.0, False, where) * scale for fuel, v in given.items()}
    applied = {}
    requested = dict(switches or {})
    listed_switches = _entry(chosen, "switches", dict, path, prefix) if chosen.get("switches") is not None else {}
    for switch in listed_switches:
        spec = _entry(listed_switches, switch, dict, path, f"{prefix}switches.")
        enabled, fuel = spec.get("enabled"), spec.get("fuel")
        if not isinstance(enabled, bool) or fuel not in factors:
            raise InputError(
                f"water parameters file {path}: switch {prefix}switches.{switch} needs enabled: true/false and the fuel of "
                f"a factor, got {shown(spec)}"
            )
        on = bool(requested.pop(switch, enabled))
        applied[switch] = on
        if not on:
            factors[fuel] = 0.0
    if requested:
        raise InputError(f"table {name!r} has no switch {next(iter(requested))!r} (switches: {', '.join(applied) or 'none'})")
    fossil = _entry(chosen, "fossil_fuels", str, path, prefix)
    if fossil not in factors:
        raise InputError(f"{path}: table {name!r} maps fossil_fuels to {shown(fossil)}, which has no factor")
    listed = _entry(onsite, "coefficients_deg_f", list, path, "onsite.")
    if len(listed) != 4:
        raise InputError(f"{path}: onsite.coefficients_deg_f must hold 4 numbers (c3, c2, c1, c0)")
    coefficients = tuple(_finite(c, f"onsite.coefficients_deg_f[{k}]", path) for k, c in enumerate(listed))
    return WaterParameters(
        table=name,
        factors=factors,
        fossil_fuels=fossil,
        cycles=_positive(onsite.get("cycles_of_concentration") if cycles is None else cycles, "cycles", 1.0, True),
        coefficients=coefficients,
        min_wue=_positive(onsite.get("min_wue_l_per_kwh"), "min_wue_l_per_kwh", 0.0, False, where),
        pue=_positive(document.get("pue") if pue is None else pue, "pue", 1.0, False),
        source=" ".join(str(chosen.get("source", "")).split()),
        switches=applied,
    )


def _finite(value, name: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) < 1e300:  # False for NaN
        raise InputError(f"water parameters file {path}: {name} must be a finite number, got {shown(value)}")
    return float(value)


def wet_bulb_stull(temperature_c: np.ndarray, relative_humidity_pct: np.ndarray) -> np.ndarray:
    """Wet-bulb temperature, deg C, by Stull (2011) from temperature (deg C) and relative humidity (%).

    Valid for RH 5..99 % and T -20..50 deg C at sea-level pressure (error within about 1 deg C);
    values outside are computed by the same formula.
    """
    t = np.asarray(temperature_c, dtype=float)
    rh = np.asarray(relative_humidity_pct, dtype=float)
    return (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )


def onsite_wue(wet_bulb_c: np.ndarray, parameters: WaterParameters) -> np.ndarray:
    """On-site water use of an evaporative cooling tower, L/kWh of IT energy, at a wet-bulb temperature (deg C)."""
    twb_f = np.asarray(wet_bulb_c, dtype=float) * 9.0 / 5.0 + 32.0
    c3, c2, c1, c0 = parameters.coefficients
    evaporation = ((c3 * twb_f + c2) * twb_f + c1) * twb_f + c0
    blowdown = parameters.cycles / (parameters.cycles - 1.0)
    return np.maximum(blowdown * evaporation, parameters.min_wue)


def offsite_ewif(mix: Mapping[str, np.ndarray | float], parameters: WaterParameters) -> np.ndarray:
    """Water consumed generating one kWh of the grid's mix, L/kWh (before PUE).

    Args:
        mix: fuel -> generation (MWh per hour, [T] arrays) or share (scalars). Fuels are the
            table's names (wind, solar, hydro, oil, natural_gas, coal, nuclear, other, ...);
            ``fossil_fuels`` (an annual mix's unsplit fossil share) takes the factor of the fuel
            the table names for it. Negative generation (net consumption) counts as zero.
    """
    factors = dict(parameters.factors)
    factors["fossil_fuels"] = factors[parameters.fossil_fuels]
    unknown = [fuel for fuel in mix if fuel not in factors]
    if unknown:
        raise InputError(
            f"the water factor table {parameters.table!r} has no factor for {unknown[0]!r} (fuels: {', '.join(sorted(factors))})"
        )
    generation = {fuel: np.maximum(np.asarray(amount, dtype=float), 0.0) for fuel, amount in mix.items()}
    total = sum(generation.values())
    weighted = sum(amount * factors[fuel] for fuel, amount in generation.items())
    if np.any(np.asarray(total) <= 0):
        raise InputError("a grid mix with no generation has no water intensity (every fuel's amount is zero)")
    return np.asarray(weighted / total, dtype=float)


def water_intensity(
    temperature_c: np.ndarray,
    relative_humidity_pct: np.ndarray,
    mix: Mapping[str, np.ndarray | float],
    parameters: WaterParameters,
) -> np.ndarray:
    """[T] water intensity, L/kWh = m^3/MWh: on-site WUE at the hour's wet bulb plus PUE x the mix's EWIF."""
    onsite = onsite_wue(wet_bulb_stull(temperature_c, relative_humidity_pct), parameters)
    return onsite + parameters.pue * offsite_ewif(mix, parameters)
