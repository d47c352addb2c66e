"""Seeded streams of deferrable jobs, calibrated to published measurements (docs/model/flexibility.md).

Every default below comes from a figure of ``FLEXIBILITY.md`` (the project's collection of published
measurements, with sources), cited where it is used:

* **Duration** at full power: uniform on whole hours 4..90 (Wiesner et al., "Let's Wait Awhile",
  Middleware'21, `dos-group/lets-wait-awhile` simulate.py: ML jobs of U[4, 90] h).
* **Deadline**: release + 1.5 x duration (SustainCluster, `HewlettPackard/green-dcc` task.py), the
  waiting time capped at 24 h (Google CICS, Radovanovic et al. 2023: flexible work finishes within
  24 h; GAIA, Hanafy et al. ASPLOS'24: at most 24 h for jobs longer than 2 h).
* **GPUs per job**: 98% small jobs of 1, 2, 4 or 8 GPUs (probabilities 0.6, 0.2, 0.1, 0.1: median 1,
  mean 2.2, as Philly's median 1 and mean 1.93 and Helios' mean 3.7) and 2% large jobs of 64..512
  GPUs (Acme, Hu et al. NSDI'24: pretraining is 0.9-3.2% of jobs but 69.5-94% of GPU time; here the
  large jobs carry about 69% of the GPU-hours, and the mean is about 7 GPUs, between Seren's 5.7 and
  Kalos' 26.8).
* **Power**: 0.7 kW of IT power per GPU (an H100 SXM's board power; the host's share is left out,
  like the workload's PUE: UNCONFIRMED as a job average).
* **Arrivals**: Poisson, weighted 1.0 from 08 to 20 h local time of the job's home and 0.3 otherwise
  (SustainCluster, `sustain-cluster` workload_utils.py).
* **Checkpoint**: 14 bytes per parameter (mixed-precision Adam without gradients; ZeRO, Rajbhandari
  et al. SC'20), at 1e9 parameters per GPU (7B models on 8 GPUs, 70B on 64: derived), so 14 GB per
  GPU. A move is priced per GB leaving the home region (default 0.02 USD/GB, the US/EU price of the
  `green-dcc` transmission matrices; 0.09 elsewhere, set per region with ``usd_per_gb``) and takes
  the job's power for the time its shards need on 10 Gb/s links, one per 8-GPU node:
  8 x 14 GB at 10 Gb/s = 89.6 s, whatever the job's size. The model charges moves per MWh of work
  run away from home (:class:`eglb.envs.flexibility.Jobs`); one move per job of the mean duration
  gives, per MWh, 14 GB x price / (0.7 kW x 47 h) USD (8.5 USD/MWh at 0.02 USD/GB) and
  89.6 s / 47 h = 5.3e-4 MWh of extra energy, the same for every job of a home region.
* **How much is deferrable**: the jobs' expected energy is ``deferrable_share`` of all energy
  (interactive plus jobs). FLEXIBILITY.md anchors 0.7 on Acme's pretraining share of GPU time and
  says no source fixes it (UNCONFIRMED); the default here is 0.2, the low end of its sweep {0.2,
  0.5, 0.9}: on the 14 history zones it gives about 1,500 jobs a week (0.7 would give about 20,000).
* **Where jobs may run**: everywhere, except a share ``residency_share`` (default 0.2, UNCONFIRMED:
  no source gives one) pinned to their home region (data residency).

The scenario gains capacity for the jobs: every region ``job_capacity`` times the jobs' mean power
per region (default 2: jobs fill about half of the added capacity on average).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from eglb.envs.errors import InputError
from eglb.envs.flexibility import DEFAULT_UNFINISHED_PENALTY, Jobs
from eglb.envs.scenario import Scenario

SMALL_GPUS = (1, 2, 4, 8)
SMALL_PROBABILITY = (0.6, 0.2, 0.1, 0.1)
LARGE_GPUS = (64, 128, 256, 512)


@dataclass(frozen=True)
class JobStream:
    """How jobs are drawn (module docstring: every default with its source).

    Attributes:
        deferrable_share: expected share of the jobs in all energy (interactive plus jobs), in [0, 1).
        duration_hours: (shortest, longest) run time at full power, whole hours, uniform.
        slack: deadline = release + duration + min(ceil((slack - 1) duration), max_wait_hours).
        max_wait_hours: the longest a job may wait beyond its run time, hours.
        large_share: share of jobs drawn from the large GPU counts.
        gpu_kw: IT power per GPU, kW.
        day_hours: (first, last + 1) local hours of the day weight; other hours get ``night_weight``.
        night_weight: the arrival weight outside ``day_hours``.
        residency_share: share of jobs pinned to their home region.
        checkpoint_gb_per_gpu: checkpoint size per GPU, GB.
        usd_per_gb: transfer price out of each region, USD/GB: one number or one per region.
        move_seconds: the time one move takes (the job idles at its power meanwhile), s.
        moves_per_hours: hours of work one move serves (default: the mean duration).
        job_capacity: capacity added to every region, in multiples of the jobs' mean power per region.
        penalty: USD per MWh of work left undone at a deadline.
    """

    deferrable_share: float = 0.2
    duration_hours: tuple[int, int] = (4, 90)
    slack: float = 1.5
    max_wait_hours: int = 24
    large_share: float = 0.02
    gpu_kw: float = 0.7
    day_hours: tuple[int, int] = (8, 20)
    night_weight: float = 0.3
    residency_share: float = 0.2
    checkpoint_gb_per_gpu: float = 14.0
    usd_per_gb: float | tuple[float, ...] = 0.02
    move_seconds: float = 8 * 14.0 * 8 / 10
    moves_per_hours: float | None = None
    job_capacity: float = 2.0
    penalty: float = DEFAULT_UNFINISHED_PENALTY
    utc_offsets: tuple[float, ...] | None = field(default=None)

    def __post_init__(self):
        low, high = self.duration_hours
        checks = (
            ("deferrable_share", 0 <= self.deferrable_share < 1),
            ("duration_hours", 1 <= low <= high and int(low) == low and int(high) == high),
            ("slack", np.isfinite(self.slack) and self.slack >= 1),
            ("max_wait_hours", self.max_wait_hours >= 0),
            ("large_share", 0 <= self.large_share <= 1),
            ("gpu_kw", np.isfinite(self.gpu_kw) and self.gpu_kw > 0),
            ("night_weight", np.isfinite(self.night_weight) and self.night_weight >= 0),
            ("residency_share", 0 <= self.residency_share <= 1),
            ("checkpoint_gb_per_gpu", np.isfinite(self.checkpoint_gb_per_gpu) and self.checkpoint_gb_per_gpu >= 0),
            ("usd_per_gb", np.all(np.isfinite(self.usd_per_gb)) and np.all(np.asarray(self.usd_per_gb) >= 0)),
            ("move_seconds", np.isfinite(self.move_seconds) and self.move_seconds >= 0),
            ("moves_per_hours", self.moves_per_hours is None or (np.isfinite(self.moves_per_hours) and self.moves_per_hours > 0)),
            ("job_capacity", np.isfinite(self.job_capacity) and self.job_capacity >= 0),
        )
        for name, ok in checks:
            if not ok:
                raise InputError(
                    f"job stream setting {name} = {getattr(self, name)!r} is out of range (see eglb.envs.job_stream)"
                )

    def mean_gpus(self) -> float:
        small = float(np.dot(SMALL_GPUS, SMALL_PROBABILITY))
        return (1 - self.large_share) * small + self.large_share * float(np.mean(LARGE_GPUS))

    def draw(self, scenario: Scenario, seed: int) -> Scenario:
        """``scenario`` with a stream of jobs (and capacity for them) drawn with ``seed``."""
        rng = np.random.default_rng(seed)
        n, hours = scenario.n_regions, scenario.n_hours
        low, high = self.duration_hours
        interactive = float(scenario.workload.sum())
        wanted = interactive * self.deferrable_share / (1 - self.deferrable_share)  # MWh of jobs
        mean_energy = self.mean_gpus() * self.gpu_kw / 1000 * (low + high) / 2
        offsets = np.zeros(n) if self.utc_offsets is None else np.asarray(self.utc_offsets, dtype=float)
        if offsets.shape != (n,):
            raise InputError(f"job stream utc_offsets has {offsets.size} entries, the scenario has {n} regions")
        price = np.broadcast_to(np.asarray(self.usd_per_gb, dtype=float), (n,)) if np.ndim(self.usd_per_gb) == 0 else None
        if price is None:
            price = np.asarray(self.usd_per_gb, dtype=float)
            if price.shape != (n,):
                raise InputError(f"job stream usd_per_gb has {price.size} entries, the scenario has {n} regions")
        # Arrival weight of every (home region, hour), local day or night.
        utc_hour = scenario.timestamps.astype("datetime64[h]").astype(np.int64) % 24
        local = (utc_hour[None, :] + np.round(offsets)[:, None].astype(int)) % 24
        first, stop = self.day_hours
        weight = np.where((local >= first) & (local < stop), 1.0, self.night_weight)  # [N, T]
        expected = wanted / mean_energy if mean_energy > 0 else 0.0
        rate = weight * (expected / weight.sum()) if weight.sum() > 0 else weight
        counts = rng.poisson(rate)  # [N, T] arrivals
        home, release = np.nonzero(counts)
        home, release = np.repeat(home, counts[home, release]), np.repeat(release, counts[home, release])
        count = home.size
        duration = rng.integers(low, high + 1, count)
        large = rng.random(count) < self.large_share
        gpus = np.where(large, rng.choice(LARGE_GPUS, count), rng.choice(SMALL_GPUS, count, p=SMALL_PROBABILITY))
        wait = np.minimum(np.ceil((self.slack - 1) * duration), self.max_wait_hours).astype(int)
        deadline = release + duration + wait
        pinned = rng.random(count) < self.residency_share
        keep = deadline <= hours  # a job whose deadline falls after the horizon is not drawn
        home, release, duration, gpus, deadline, pinned = (a[keep] for a in (home, release, duration, gpus, deadline, pinned))
        count = home.size
        power = gpus * self.gpu_kw / 1000  # MW
        regions = np.ones((count, n), dtype=bool)
        regions[pinned] = False
        regions[np.flatnonzero(pinned), home[pinned]] = True
        served = self.moves_per_hours if self.moves_per_hours is not None else (low + high) / 2  # hours of work per move
        per_mwh = self.checkpoint_gb_per_gpu / (self.gpu_kw / 1000 * served)  # GB moved per MWh of work away
        jobs = Jobs(
            names=tuple(f"job{k}" for k in range(count)),
            energy=power * duration,
            release=release,
            deadline=deadline,
            max_power=power,
            regions=regions,
            home=home,
            away_usd=per_mwh * price[home],
            away_overhead=np.full(count, self.move_seconds / 3600 / served),
            penalty=self.penalty,
        )
        mean_power = float(jobs.energy.sum()) / hours / n
        capacity = scenario.capacity + self.job_capacity * mean_power
        return scenario.with_changes(capacity=capacity, jobs=jobs, name=f"{scenario.name} + {count} jobs (seed {seed})")
