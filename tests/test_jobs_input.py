"""Job lists and model choices from users and from the calibrated generator: validation names the job, the stream follows its sources."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.envs.flexibility import MODEL_PRESETS, Jobs, ModelChoice
from eglb.envs.job_stream import LARGE_GPUS, JobStream
from eglb.envs.jobs_csv import load_jobs, save_jobs
from eglb.envs.synthetic import make_synthetic

from tests.helpers import random_knobs

HEADER = "job,energy_mwh,release,deadline,max_power_mw,home,regions,away_usd_per_mwh,away_mwh_per_mwh\n"


@pytest.fixture(scope="module")
def scenario():
    return random_knobs(3, n_jobs=5).with_changes(models=None)


def _write(tmp_path, rows: list[str]):
    path = tmp_path / "jobs.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def test_a_job_list_round_trips_exactly(tmp_path, scenario):
    path = save_jobs(scenario.jobs, scenario, tmp_path / "jobs.csv")
    assert load_jobs(path, scenario, penalty=scenario.jobs.penalty) == scenario.jobs


@pytest.mark.parametrize(
    "row, message",
    [
        (
            "a,1,2024-01-01T05:00,2024-01-01T03:00,1,r0,*,,",
            r"line 2 \(job 'a'\), column 'deadline': the deadline .* is not after the release",
        ),
        (
            "a,-1,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,,",
            r"line 2 \(job 'a'\), column 'energy_mwh': expected a number >= 0, got -1",
        ),
        (
            "a,nan,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,,",
            r"line 2 \(job 'a'\), column 'energy_mwh': expected a finite number, got 'nan'",
        ),
        (
            "a,inf,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,,",
            r"line 2 \(job 'a'\), column 'energy_mwh': expected a finite number",
        ),
        ("a,,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,,", r"line 2 \(job 'a'\), column 'energy_mwh'"),
        ("a,1,2024-01-01T01:00,tomorrow,1,r0,*,,", r"line 2 \(job 'a'\), column 'deadline'"),
        ("a,1,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,x,", r"line 2 \(job 'a'\), column 'away_usd_per_mwh'"),
        ("a,1,2024-01-01T01:00,2024-01-01T03:00,1,Mars,*,,", r"line 2 \(job 'a'\), column 'home': unknown region 'Mars'"),
        (
            "a,1,2024-01-01T01:00,2024-01-01T03:00,1,r0,r1 Venus,,",
            r"line 2 \(job 'a'\), column 'regions': unknown region 'Venus'",
        ),
        ("a,1,2024-01-01T01:00,2024-01-01T03:00,0,r0,*,,", r"\(job 'a'\), column 'max_power_mw': expected a number > 0"),
        ("a,1,2023-12-31T01:00,2024-01-01T03:00,1,r0,*,,", r"column 'release': 2023-12-31T01:00 is outside the scenario's hours"),
        ("a,1,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,-2,", r"column 'away_usd_per_mwh': expected a number >= 0"),
        ("a,5,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,,", r"job 'a' \(job 0\): 5 MWh cannot be done at 1 MW in its 2 hours"),
    ],
)
def test_bad_job_lists_are_refused_naming_the_job(tmp_path, scenario, row, message):
    with pytest.raises(InputError, match=message):
        load_jobs(_write(tmp_path, [row]), scenario)


def test_a_bad_optional_cell_is_named_by_its_own_line_and_job(tmp_path, scenario):
    rows = ["a,1,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,,", "b,1,2024-01-01T01:00,2024-01-01T03:00,1,r0,*,cheap,"]
    with pytest.raises(InputError, match=r"line 3 \(job 'b'\), column 'away_usd_per_mwh': expected a finite number, got 'cheap'"):
        load_jobs(_write(tmp_path, rows), scenario)


def test_more_work_than_the_allowed_regions_can_take_names_the_job_and_the_shortfall(tmp_path, scenario):
    hours = slice(2, 5)
    room = float(scenario.capacity[0, hours].sum())
    row = f"big,{room * 2},2024-01-01T02:00,2024-01-01T05:00,{room},r0,r0,,"
    with pytest.raises(
        InputError,
        match=r"jobs.csv: job 'big' \(job 0\): .* MWh cannot be done in hours 2..4: its allowed regions \['r0'\] can give it at most .* MWh short",
    ):
        load_jobs(_write(tmp_path, [row]), scenario)


def test_jobs_and_models_validate_on_construction():
    base = dict(names=("a",), energy=[1.0], release=[0], deadline=[3], max_power=[1.0], regions=[[True, False]], home=[0])
    Jobs(**base)
    for change, message in (
        ({"home": [1]}, "home region .* is not among its allowed regions"),
        ({"release": [0.5]}, "release must be a whole hour index"),
        ({"energy": [np.nan]}, "energy must be a finite number"),
        ({"names": ("a", "a"), "energy": [1, 1]}, "repeats the name"),
        ({"regions": [[False, False]]}, "no region is allowed"),
    ):
        with pytest.raises(InputError, match=message):
            Jobs(**{**base, **change})
    with pytest.raises(InputError, match="energy must be 1"):
        ModelChoice(("big", "small"), [0.9, 0.2], [80, 70], target=75)
    with pytest.raises(InputError, match="above the best model"):
        ModelChoice(("big", "small"), [1.0, 0.2], [80, 70], target=81)
    preset = MODEL_PRESETS["llama3.1-batch128"].choice(80.0)
    assert preset.energy[1] == pytest.approx(38.5 / 202.0)


def test_a_scenario_checks_that_its_jobs_fit_its_hours():
    scenario = random_knobs(0)
    jobs = scenario.jobs
    late = Jobs(jobs.names, jobs.energy, jobs.release, jobs.deadline + scenario.n_hours, jobs.max_power, jobs.regions, jobs.home)
    with pytest.raises(InputError, match="is after the scenario's last hour"):
        scenario.with_changes(jobs=late)
    window = scenario.window(2, scenario.n_hours)
    kept = jobs.release >= 2
    assert window.jobs is None or window.jobs.count == int(kept.sum())


def test_the_job_stream_follows_its_sources_and_its_seed():
    base = make_synthetic(0, hours=24 * 28)
    stream = JobStream(deferrable_share=0.3)
    one, again, other = stream.draw(base, seed=1), stream.draw(base, seed=1), stream.draw(base, seed=2)
    assert one == again and one.jobs != other.jobs
    jobs = one.jobs
    duration = jobs.energy / jobs.max_power
    assert duration.min() >= 4 - 1e-9 and duration.max() <= 90 + 1e-9
    np.testing.assert_allclose(duration, np.round(duration))
    wait = jobs.deadline - jobs.release - np.round(duration)
    np.testing.assert_array_equal(wait, np.minimum(np.ceil(0.5 * np.round(duration)), 24))
    gpus = np.round(jobs.max_power / 0.0007)
    assert np.median(gpus) == 1
    large = np.isin(gpus, LARGE_GPUS)
    assert 0.005 < large.mean() < 0.05
    assert 0.5 < (jobs.energy[large].sum() / jobs.energy.sum()) < 0.9  # Acme: 70-94% of GPU time in ~1-3% of jobs
    day = (one.timestamps[jobs.release].astype("datetime64[h]").astype(int) % 24 >= 8) & (
        one.timestamps[jobs.release].astype("datetime64[h]").astype(int) % 24 < 20
    )
    assert 2.0 < day.sum() / (~day).sum() < 5.0  # weights 1.0 by day, 0.3 at night, equal hours: about 3.3
    interactive = float(base.workload.sum())
    share = jobs.energy.sum() / (jobs.energy.sum() + interactive)
    assert 0.15 < share < 0.3  # jobs whose deadline falls after the horizon are not drawn
    assert (one.capacity > base.capacity).all()
    pinned = jobs.regions.sum(axis=1) == 1
    assert 0.1 < pinned.mean() < 0.3


def test_the_evaluation_command_takes_jobs_and_models_and_refuses_a_list_that_cannot_fit(tmp_path, run_cli):
    from eglb.envs.synthetic import make_synthetic

    done = run_cli(
        "evaluate.py",
        "--no-progress",
        "--synthetic-hours",
        "24",
        "--jobs",
        "stream:share=0.3,seed=1",
        "--models",
        "llama3.1-batch128:target=80",
        "--algos",
        "eglb-off,eglb,run-now",
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 0, done.stderr
    import json

    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert {r["algo"] for r in rows} >= {"eglb-off", "eglb", "run-now"}
    assert all("unfinished_mwh" in r and r["accuracy"] >= 80 - 1e-6 for r in rows)
    # Three jobs that each fit alone but not together in one region's hours.
    scenario = make_synthetic(0, hours=24)
    room = float(scenario.capacity[0, 2:6].sum())
    rows = [f"j{k},{0.9 * room:.6f},2022-09-22T02:00,2022-09-22T06:00,{room / 4:.6f},{scenario.regions[0]},,," for k in range(3)]
    path = _write(tmp_path, rows)
    done = run_cli("evaluate.py", "--no-progress", "--synthetic-hours", "24", "--jobs", str(path), "--algos", "eglb")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot all be done by their deadlines" in done.stderr and "'j" in done.stderr
