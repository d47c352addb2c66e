"""Which scenarios to run on: a typed description, and building them (loaders, synthetic seeds, windows, shifts).

Named scenarios: ``print(eglb.scenarios.describe_named())`` lists what loads by name (the published
set, the generators, each history year) and where its data must sit; ``eglb.scenarios.load("history-2023",
regions="DE-LU,SG")`` loads one (keyword arguments are ScenarioConfig fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario
from eglb.envs.shifts import ShiftedScenario, apply_shift, parse_shift
from eglb.envs.validation import MAX_MAGNITUDE, MAX_SEED, check_fields, check_hours, check_range, check_unique, typed_arguments
from eglb.importers.electricitymaps import BASES
from eglb.importers.workload import MODEL_SOURCES

#: Longest synthetic scenario accepted (ten years of hours).
MAX_SYNTHETIC_HOURS = 87_600


@dataclass(frozen=True)
class ScenarioConfig:
    """The scenarios of an evaluation.

    Attributes:
        traces: a folder in the published layout or the project's CSV format (text or a Path,
            kept as text); None for synthetic.
        synthetic: synthetic seeds (one scenario per seed, each once) when ``traces`` is None.
        synthetic_hours: hours of each synthetic scenario.
        setting: "full" or "partial" mask (None: full, or a CSV folder's own mask).
        hours: (start, end) hours to keep (end exclusive; -1: to the last hour), or None for all.
        mu_water, mu_carbon: override the footprint weights (USD/m^3, USD/t), or None.
        shifts: distribution shifts ``NAME[:param=value,...]`` applied in order (envs/shifts.py): a
            tuple, even of one shift (one string is refused, never split into characters).
        seed: seed of the shifts' random choices (and of a history scenario's gateway loads).
        regions: with the history folder as ``traces``: which regions (names, "complete14",
            "eglb2022" or a region table CSV; default the 14 complete zones).
        years: with the history folder: UTC years, e.g. "2023" or "2021-2022" (default 2023; 2024
            is the test year).
        workload: with the history folder: the gateway-load source ("bloom", "alibaba-genai",
            "alibaba-dlrm"; importers/workload.py).
        carbon: with the history folder: "direct" or "lca" carbon intensity.
        zones: with synthetic seeds: draw these zones from the history-calibrated generator
            (importers/synthetic.py: "complete14" or zone names) instead of the published-set one;
            ``workload`` then names the gateways' workload model too.
        jobs: deferrable jobs: "stream[:share=...,seed=...]" or a job list CSV (envs/knob_specs.py).
        models: a model choice: "PRESET:target=..." (envs/knob_specs.py).
    """

    traces: str | Path | None = None
    synthetic: tuple[int, ...] = (0,)
    synthetic_hours: int = 457
    setting: str | None = None
    hours: tuple[int, int] | None = None
    mu_water: float | None = None
    mu_carbon: float | None = None
    shifts: tuple[str, ...] = ()
    seed: int = 0
    regions: str | None = None
    years: str | None = None
    workload: str = "bloom"
    carbon: str = "direct"
    zones: str | None = None
    jobs: str | None = None
    models: str | None = None

    def __post_init__(self):
        check_fields(self)
        check_range("ScenarioConfig.seed (--seed)", self.seed, 0, MAX_SEED)
        check_hours("ScenarioConfig.hours", self.hours)
        check_range("ScenarioConfig.mu_water (--mu-water)", self.mu_water, 0, MAX_MAGNITUDE)
        check_range("ScenarioConfig.mu_carbon (--mu-carbon)", self.mu_carbon, 0, MAX_MAGNITUDE)
        for seed in self.synthetic:
            check_range("ScenarioConfig.synthetic seed", seed, 0, MAX_SEED)
        check_unique("ScenarioConfig.synthetic", self.synthetic)
        check_unique("ScenarioConfig.shifts", self.shifts)  # the same shift twice is a typo, not a stronger shift
        if self.workload not in MODEL_SOURCES:
            raise InputError(f"--workload must be one of {', '.join(MODEL_SOURCES)}, got {self.workload!r}")
        if self.carbon not in BASES:
            raise InputError(f"--carbon must be one of {', '.join(BASES)}, got {self.carbon!r}")
        if (self.regions or self.years) and not self.traces:
            raise InputError("--regions and --years select regions and years of the history folder: give it with --traces")
        if self.zones and self.traces:
            raise InputError(
                "--zones picks zones of the history-calibrated synthetic generator (--synthetic); "
                "for the history folder itself use --regions"
            )
        if self.zones and self.setting == "partial":
            raise InputError("--setting partial is the published mask; the history-calibrated generator has the full mask")
        if self.traces is None:
            if not self.synthetic:
                raise InputError("give at least one synthetic seed (--synthetic)")
            if not 1 <= self.synthetic_hours <= MAX_SYNTHETIC_HOURS:
                raise InputError(f"--synthetic-hours must be in 1..{MAX_SYNTHETIC_HOURS} (ten years), got {self.synthetic_hours}")
        if self.setting not in (None, "full", "partial"):
            raise InputError(f"--setting must be full or partial, got {self.setting!r}")
        for shift in self.shifts:
            parse_shift(shift)


@typed_arguments
def build_scenarios(config: ScenarioConfig) -> list[ShiftedScenario]:
    """The scenarios ``config`` describes, each with the shifts applied (and the load they shed)."""
    from eglb.envs.synthetic import make_synthetic
    from eglb.envs.traces import load_traces

    if config.traces and is_history_folder(config.traces):
        scenarios = [history_scenario(config)]
    elif config.regions or config.years:
        raise InputError(f"--regions and --years select the history folder's data; {config.traces} is not the history folder")
    elif config.traces:
        scenarios = [load_traces(config.traces, config.setting)]
    elif config.zones:
        from eglb.importers.synthetic import make_history_synthetic

        scenarios = [
            make_history_synthetic(seed=seed, hours=config.synthetic_hours, zones=config.zones, workload=config.workload)
            for seed in config.synthetic
        ]
    else:
        scenarios = [
            make_synthetic(seed=seed, hours=config.synthetic_hours, setting=config.setting or "full") for seed in config.synthetic
        ]
    if config.hours and not is_history_folder(config.traces or ""):
        first, last = config.hours
        scenarios = [s.window(first, s.n_hours if last == -1 else last) for s in scenarios]
    changes = {k: v for k, v in (("mu_water", config.mu_water), ("mu_carbon", config.mu_carbon)) if v is not None}
    if changes:
        scenarios = [s.with_changes(**changes) for s in scenarios]
    if config.jobs or config.models:
        scenarios = [checked_knobs(s, config.jobs, config.models) for s in scenarios]
    cases = [ShiftedScenario(s) for s in scenarios]
    for text in config.shifts:
        spec = parse_shift(text)
        shifted = []
        for case in cases:
            step = apply_shift(case.scenario, spec, config.seed)
            noise = step.forecast_noise if step.forecast_noise is not None else case.forecast_noise
            shifted.append(ShiftedScenario(step.scenario, noise, case.unserved + step.unserved))
        cases = shifted
    for case in cases:
        require_load(case.scenario, bool(config.shifts))
    return cases


def checked_knobs(scenario: Scenario, jobs: str | None, models: str | None) -> Scenario:
    """The scenario with the jobs and models of ``--jobs``/``--models`` (envs/knob_specs.py); the jobs
    must fit as a whole (an LP, :func:`eglb.agents.deliverable.check_deliverable`)."""
    from eglb.agents.deliverable import check_deliverable
    from eglb.envs.knob_specs import with_knobs

    flexible = with_knobs(scenario, jobs, models)
    if jobs:
        check_deliverable(flexible, f"--jobs {jobs}")
    return flexible


def history_scenario(config: ScenarioConfig, years: str | None = None, hours=None) -> Scenario:
    """A scenario of the real history folder (importers/history.py) for the config's regions and years."""
    from eglb.envs.eglb2022 import setting_mask
    from eglb.importers.history import load_history
    from eglb.importers.workload import FittedLoads

    mask = None
    if config.setting == "partial":
        if config.regions != "eglb2022":
            raise InputError("--setting partial is the published mask: it needs --regions eglb2022")
        mask = setting_mask("partial")
    return load_history(
        config.traces,
        regions=config.regions,
        years=years or config.years or 2023,
        hours=hours if hours is not None else config.hours,
        carbon=config.carbon,
        workload=FittedLoads(config.workload),
        seed=config.seed,
        mask=mask,
    )


#: Observed hours before each window that the history benchmark's and the history tasks' windows carry (two
#: weeks): what forecasters and tail rules read when their spec says ``past=P`` (docs/guide/information.md).
HISTORY_PAST_HOURS = 336


def with_observed_past(year: Scenario, config: ScenarioConfig, hours: int = HISTORY_PAST_HOURS) -> Scenario:
    """A history scenario of whole UTC years carrying the ``hours`` observed before its first hour: the last
    hours of the previous year, loaded from the same folder with the same ``config`` (regions, workload
    model and seed: the previous year as a benchmark of that year sees it). Every window of the result
    (:meth:`Scenario.window`, :func:`named_windows`) carries the ``hours`` before the window. Without the
    previous year in the folder (2021, the first year of the shared history), the scenario as it is: its
    windows carry no past.
    """
    from eglb.envs.past import ObservedPast
    from eglb.importers.history import has_year

    previous = int(str(year.timestamps[0].astype("datetime64[Y]"))) - 1
    if not has_year(config.traces, config.regions, previous):
        return year
    before = history_scenario(config, years=str(previous))
    return year.with_changes(past=ObservedPast.of_hours(before, before.n_hours - hours, before.n_hours))


def named_windows(scenario: Scenario, hours: int, starts) -> list[Scenario]:
    """The windows ``[start, start + hours)`` of ``scenario`` for each start, each named after its first hour."""
    windows = []
    for start in starts:
        window = scenario.window(int(start), int(start) + int(hours))
        first = str(window.timestamps[0].astype("datetime64[h]"))
        windows.append(window.with_changes(name=f"{scenario.name}, {hours} h from {first}"))
    return windows


def is_history_folder(path) -> bool:
    from eglb.importers.history import is_history_folder as detect

    try:
        return bool(path) and detect(path)
    except OSError:  # a name too long for the file system, ...: not the history folder (the loader says why)
        return False


def require_load(scenario: Scenario, shifted: bool = False) -> None:
    """A scenario with no load at all has nothing to route: say so instead of dividing by zero."""
    if not scenario.total_workload.any():
        after = " after the shifts (they shed all of it)" if shifted else ""
        raise InputError(f"scenario {scenario.name!r} has no load to route{after}: every gateway's workload is 0")


# ---------------------------------------------------------------------------- scenarios by name
#: Years of the history folder (UTC); the last is the test year.
HISTORY_YEARS = ("2021", "2022", "2023", "2024")


@dataclass(frozen=True)
class NamedScenario:
    """A data set or generator that can be loaded by name (:func:`named`, :func:`load`).

    Attributes:
        name: what to pass to :func:`load` (e.g. ``eglb-2022``, ``history-2023``).
        description: what it is, in one line.
        config: the ScenarioConfig that loads it (the same as the command line's options).
        data: the folder its data must sit in (None: generated, nothing to download); the
            environment variable named in ``description`` moves it.
    """

    name: str
    description: str
    config: ScenarioConfig
    data: str | None = None

    @property
    def available(self) -> bool:
        """Whether its data is where it must sit (always for a generator)."""
        from pathlib import Path

        return self.data is None or Path(self.data).is_dir()


def named() -> dict[str, NamedScenario]:
    """Every scenario loadable by name: the published 10-region set (full and partial mask), the two
    synthetic generators and each year of the 14-zone history, with where the data must sit."""
    from eglb.envs.eglb2022 import DATA_ENV, default_data_path
    from eglb.importers.paths import HISTORY_ENV, default_history_path
    from eglb.importers.regions import DEFAULT_TABLE, read_region_table

    published, history = str(default_data_path()), str(default_history_path())
    zones = len(read_region_table(DEFAULT_TABLE))
    entries = [
        NamedScenario("synthetic", "generator calibrated on the published set: 10 regions, 457 hours, seed 0", ScenarioConfig()),
        NamedScenario(
            "synthetic-history",
            f"generator calibrated on the 2021-2022 history of the {DEFAULT_TABLE} zones, 457 hours, seed 0",
            ScenarioConfig(zones=DEFAULT_TABLE),
        ),
        NamedScenario(
            "eglb-2022",
            f"the published 10-region set, 457 hours of 2022, full mask (folder: ${DATA_ENV} or ../shared/data/eglb-2022)",
            ScenarioConfig(traces=published),
            published,
        ),
        NamedScenario(
            "eglb-2022-partial",
            "the published set with its partial mask (each gateway served by some regions only)",
            ScenarioConfig(traces=published, setting="partial"),
            published,
        ),
    ]
    for year in HISTORY_YEARS:
        test = "; the test year: tune nothing on it" if year == HISTORY_YEARS[-1] else ""
        entries.append(
            NamedScenario(
                f"history-{year}",
                f"the hourly history of {year} in the {zones} zones of {DEFAULT_TABLE}{test} "
                f"(folder: ${HISTORY_ENV} or ../shared/data/history; regions= picks zones)",
                ScenarioConfig(traces=history, years=year),
                history,
            )
        )
    return {entry.name: entry for entry in entries}


def named_config(name: str, **changes) -> ScenarioConfig:
    """The ScenarioConfig of a named scenario, with ``changes`` (ScenarioConfig fields) applied;
    an unknown name is refused with the list of names."""
    from dataclasses import replace

    entries = named()
    if name not in entries:
        raise InputError(f"unknown scenario {name!r} (named scenarios: {', '.join(entries)})")
    return replace(entries[name].config, **changes)


def load(name: str, **changes) -> list[Scenario]:
    """The scenarios of a named scenario (see :func:`named_config`); a missing data folder is refused
    with where it must sit."""
    entry = named().get(name)
    if entry is not None and not entry.available:
        raise InputError(f"scenario {name!r} needs its data in {entry.data}: {entry.description}")
    return [case.scenario for case in build_scenarios(named_config(name, **changes))]


def describe_named() -> str:
    """The named scenarios as lines ``name  [(data missing)]  description``, then the history's zones."""
    from eglb.importers.regions import DEFAULT_TABLE, read_region_table

    entries = named().values()
    width = max(len(e.name) for e in entries)
    lines = [f"{e.name:<{width}}  {'' if e.available else '(data missing) '}{e.description}" for e in entries]
    return "\n".join([*lines, f"history zones ({DEFAULT_TABLE}): {', '.join(r.name for r in read_region_table(DEFAULT_TABLE))}"])
