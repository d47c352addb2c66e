"""Named, versioned benchmark tasks: the scenarios, frozen train / select / test splits, the objective's
weights, the information a policy may use, and the data's sources and licences.

A task id is ``NAME-vN`` (``history14-2024-weekly-v1``). The version changes whenever anything that
changes a score changes: data handling, the objective, the environment's dynamics, the splits
(``tests/test_tasks.py`` recomputes recorded reference scores and fails on drift). Each task is
registered with Gymnasium as ``eglb/NAME-vN``: an environment on its **training** split. A score on a
task is measured on its **test** split only (:mod:`eglb.scores`); its **select** split is for
choosing checkpoints and settings.

=============================  ===============================================================
task                           test split
=============================  ===============================================================
eglb2022-full-v1               published set, full mask, hours 304..457 (one 153-hour episode)
eglb2022-partial-v1            the same with the published partial mask
synthetic-457-v1               30 held-out traces (seeds 100..129) of the published-set generator
synthetic14-week-v1            30 held-out weeks (seeds 100..129) of the 14-zone history generator
history14-2024-weekly-v1       the 52 weeks of 2024, 14 real grid zones
history14-2024-SHIFT-v1        13 weeks of 2024 (weeks 0, 4, .., 48) under a named shift at severity 1
=============================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario
from eglb.envs.shifts import SHIFTS, ShiftedScenario, ShiftSpec, apply_shift

#: What a policy may use on every task: the online information of the environment. Forecast-driven
#: controllers and learned policies read forecasts only through a forecaster of the past.
ONLINE = (
    "online: at hour t each region's price, carbon and water intensity and each gateway's load of hour t "
    "and earlier, and the prices its market has published by then (forecasts/market.py); forecasts of later "
    "hours only from a forecaster of the past (no oracle)"
)
SOURCES = {
    "eglb2022": ("published eGLB data set (10 regions, 2022-09-22 .. 2022-10-11), MIT licence",),
    "synthetic": ("the embedded generator calibrated to the published set (envs/calibration.json), MIT licence",),
    "synthetic14": ("the history-calibrated generator (importers/history_calibration.json, fitted on 2021-2022), MIT licence",),
    "history14": (
        "carbon: Electricity Maps, ODbL 1.0 (share-alike: a published derived database must be ODbL)",
        "prices: SustainCluster's packaging of market data, MIT (market operators' terms apply)",
        "weather (water): Open-Meteo, CC BY 4.0",
        "workload: BLOOM power trace of the published set, MIT",
    ),
}
#: Shifts of the history test year (each a task at severity 1). "noisy-forecast" changes what
#: policies see, the others the scenario itself.
HISTORY_SHIFTS = ("heat-wave", "drought", "price-spike", "carbon-shift", "surge", "outage", "noisy-forecast")
#: Windows of the shift tasks: every fourth week of the test year (13 weeks, one a month).
SHIFT_WINDOWS = tuple(range(0, 52, 4))


@dataclass(frozen=True)
class Split:
    """The data of one split.

    Attributes:
        description: what the split holds, in words.
        seeds: generator seeds (synthetic tasks), one episode each.
        hours: (start, end) hours of the published set.
        years: UTC years of the history folder ("2021-2022").
        windows: indices of ``episode_hours``-long windows of ``years`` (None: every whole window).
    """

    description: str
    seeds: tuple[int, ...] | None = None
    hours: tuple[int, int] | None = None
    years: str | None = None
    windows: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Episode:
    """One test episode of a task: its stable id (``seed-100``, ``2024-w07``) and its scenario."""

    id: str
    case: ShiftedScenario


@dataclass(frozen=True)
class Task:
    """A named, versioned benchmark task (see the module docstring).

    Attributes:
        name, version: the id is ``NAME-vVERSION``.
        summary: one line.
        data: "eglb2022", "synthetic", "synthetic14" or "history14".
        train, select, test: the frozen splits.
        episode_hours: hours of an episode (a training episode and a test window).
        setting: "full" or "partial" mask (published set).
        shift: a shift applied to every test episode at severity 1 (None: none).
        information: what a policy may use.
        sources: the data's sources and licences.
    """

    name: str
    version: int
    summary: str
    data: str
    train: Split
    select: Split
    test: Split
    episode_hours: int
    setting: str = "full"
    shift: str | None = None
    information: str = ONLINE
    sources: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.name}-v{self.version}"

    @property
    def needs_data(self) -> str | None:
        """The data folder the task reads ("eglb2022" or "history"), or None for the generators."""
        return {"eglb2022": "eglb2022", "history14": "history"}.get(self.data)

    def test_episodes(self) -> list[Episode]:
        """The test split's episodes, shifts applied (reads the data folder where the task needs one)."""
        return self.episodes(self.test)

    def select_episodes(self) -> list[Episode]:
        return self.episodes(self.select)

    def episodes(self, split: Split) -> list[Episode]:
        if self.data in ("synthetic", "synthetic14"):
            scenarios = [(f"seed-{seed}", _synthetic(self.data, seed, self.episode_hours)) for seed in split.seeds]
        elif self.data == "eglb2022":
            start, end = split.hours
            scenarios = [(f"hours-{start}-{end}", _published(self.setting).window(start, end))]
        else:
            year = _history_year_with_past(split.years)
            count = year.n_hours // self.episode_hours
            indices = tuple(range(count)) if split.windows is None else split.windows
            if max(indices) >= count:
                raise InputError(f"task {self.id}: {split.years} has {count} whole windows, the split asks for {max(indices)}")
            scenarios = [(f"{split.years}-w{k:02d}", _history_window(year, k, self.episode_hours)) for k in indices]
        episodes = []
        for episode_id, scenario in scenarios:
            case = ShiftedScenario(scenario)
            if self.shift is not None:
                case = apply_shift(scenario, ShiftSpec(self.shift, {"severity": 1.0}), seed=0)
            episodes.append(Episode(episode_id, case))
        return episodes

    def training_source(self):
        """What the training environment draws its episodes from: a scenario (random windows of it) or a
        generator of scenarios (a new trace per episode)."""
        if self.data == "synthetic":
            from eglb.envs.synthetic import SyntheticSource

            return SyntheticSource(hours=self.episode_hours, setting=self.setting)
        if self.data == "synthetic14":
            from eglb.importers.synthetic import HistorySyntheticSource

            return HistorySyntheticSource(hours=self.episode_hours, zones="complete14")
        if self.data == "eglb2022":
            start, end = self.train.hours
            return _published(self.setting).window(start, end)
        return _history_year(self.train.years)

    def _shift_text(self) -> str:
        """The shift in words; on the history zones, the published regions it names stand for their zones."""
        from eglb.envs.shifts import HISTORY_ZONES

        text = SHIFTS[self.shift][2]
        if self.data == "history14":
            named = [f"{region} = {zone}" for region, zone in HISTORY_ZONES.items() if region in text]
            text += f" (on the 14 zones: {', '.join(named)})" if named else ""
        return text

    def card(self) -> dict:
        """The task card: everything a reader needs to know about the task (JSON-ready)."""
        split = lambda s: {k: v for k, v in s.__dict__.items() if v is not None}  # noqa: E731
        return {
            "id": self.id,
            "summary": self.summary,
            "gymnasium_id": f"eglb/{self.id}",
            "data": self.data,
            "setting": self.setting,
            "episode_hours": self.episode_hours,
            "shift": None if self.shift is None else {"name": self.shift, "severity": 1.0, "what": self._shift_text()},
            "splits": {"train": split(self.train), "select": split(self.select), "test": split(self.test)},
            "information": self.information,
            "sources": list(self.sources),
        }


# ------------------------------------------------------------------------------------------ data
@lru_cache(maxsize=2)
def _published(setting: str) -> Scenario:
    from eglb.envs.eglb2022 import load_eglb2022

    return load_eglb2022(setting=setting)


def _synthetic(data: str, seed: int, hours: int) -> Scenario:
    if data == "synthetic":
        from eglb.envs.synthetic import make_synthetic

        return make_synthetic(seed=seed, hours=hours)
    from eglb.importers.synthetic import make_history_synthetic

    return make_history_synthetic(seed=seed, hours=hours, zones="complete14")


def _history_config():
    """The history tasks' data: the shared history folder, the 14 complete zones, the default loads."""
    from eglb.importers.paths import default_history_path
    from eglb.scenarios import ScenarioConfig

    return ScenarioConfig(traces=str(default_history_path()), regions="complete14")


@lru_cache(maxsize=2)
def _history_year(years: str) -> Scenario:
    from eglb.scenarios import history_scenario

    return history_scenario(_history_config(), years=years)


@lru_cache(maxsize=2)
def _history_year_with_past(years: str) -> Scenario:
    """The years carrying the hours observed before them, so that each window carries the hours before it
    (eglb.scenarios.with_observed_past; read only by specs with past=P: the scores do not change)."""
    from eglb.scenarios import with_observed_past

    return with_observed_past(_history_year(years), _history_config())


def _history_window(year: Scenario, index: int, hours: int) -> Scenario:
    from eglb.scenarios import named_windows

    return named_windows(year, hours, [index * hours])[0]


# ------------------------------------------------------------------------------------ the table
def _published_task(setting: str) -> Task:
    return Task(
        name=f"eglb2022-{setting}",
        version=1,
        summary=f"the published 10-region set, {setting} mask: train on its first 304 hours, test on the last 153",
        data="eglb2022",
        setting=setting,
        train=Split("hours 0..304 of the published set (random windows)", hours=(0, 304)),
        select=Split("held-out synthetic traces of the published-set generator, seeds 0..7", seeds=tuple(range(8))),
        test=Split("hours 304..457 of the published set (2022-10-04 16:00 .. 2022-10-11 00:00 UTC)", hours=(304, 457)),
        episode_hours=153,
        sources=SOURCES["eglb2022"],
    )


def _synthetic_task(data: str, name: str, hours: int, what: str) -> Task:
    return Task(
        name=name,
        version=1,
        summary=f"{what}: train on fresh traces, test on 30 held-out ones",
        data=data,
        train=Split(f"a new trace of {hours} hours per episode, seeds >= 1000"),
        select=Split("held-out seeds 0..7", seeds=tuple(range(8))),
        test=Split("held-out seeds 100..129", seeds=tuple(range(100, 130))),
        episode_hours=hours,
        sources=SOURCES[data],
    )


def _history_task(shift: str | None) -> Task:
    weekly = shift is None
    return Task(
        name="history14-2024-weekly" if weekly else f"history14-2024-{shift}",
        version=1,
        summary=(
            "14 real grid zones: train on 2021-2022, select on 2023, test on the 52 weeks of 2024"
            if weekly
            else f"the history test year under the shift {shift!r} at severity 1, 13 weeks"
        ),
        data="history14",
        shift=shift,
        train=Split("UTC years 2021-2022, random weeks", years="2021-2022"),
        select=Split("8 evenly spaced weeks of 2023", years="2023", windows=(0, 7, 14, 21, 29, 36, 43, 51)),
        test=Split(
            "the 52 whole weeks of UTC 2024" if weekly else "weeks 0, 4, .., 48 of UTC 2024",
            years="2024",
            windows=None if weekly else SHIFT_WINDOWS,
        ),
        episode_hours=168,
        sources=SOURCES["history14"],
    )


TASKS: dict[str, Task] = {
    task.id: task
    for task in (
        _published_task("full"),
        _published_task("partial"),
        _synthetic_task("synthetic", "synthetic-457", 457, "the published-set generator, 457-hour traces"),
        _synthetic_task("synthetic14", "synthetic14-week", 168, "the 14-zone history-calibrated generator, weeks"),
        _history_task(None),
        *(_history_task(shift) for shift in HISTORY_SHIFTS),
    )
}


def task(task_id: str) -> Task:
    """The task of an id (``history14-2024-weekly-v1``); a bare name without version means its latest."""
    if not isinstance(task_id, str):
        raise InputError(f"a task is named by a string such as 'eglb2022-full-v1', got {type(task_id).__name__}")
    if task_id in TASKS:
        return TASKS[task_id]
    versions = [t for t in TASKS.values() if t.name == task_id]
    if versions:
        return max(versions, key=lambda t: t.version)
    raise InputError(f"unknown task {task_id!r}: choose one of {', '.join(TASKS)}")


def tasks() -> list[str]:
    """The ids of every task, in table order."""
    return list(TASKS)


def make_task_env(task_id: str, **kwargs):
    """The Gymnasium environment of a task's training split (the entry point of ``eglb/TASK-vN``).

    Keyword arguments go to :class:`~eglb.envs.glb_env.GLBEnv` (``action_mode``, ``forecaster``,
    ``reward_scale``...); by default an episode is one ``episode_hours`` window drawn at random."""
    from eglb.envs.glb_env import GLBEnv

    chosen = task(task_id)
    source = chosen.training_source()
    options = {"episode_hours": chosen.episode_hours, "random_start": isinstance(source, Scenario), **kwargs}
    return GLBEnv(source, **options)


def register() -> None:
    """Register every task's training environment as ``eglb/TASK-vN`` with Gymnasium."""
    import gymnasium

    for task_id in TASKS:
        if f"eglb/{task_id}" not in gymnasium.registry:
            gymnasium.register(id=f"eglb/{task_id}", entry_point="eglb.tasks:make_task_env", kwargs={"task_id": task_id})
