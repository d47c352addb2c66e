"""Test helpers: random feasible scenarios and a feasibility assertion."""

from __future__ import annotations

import numpy as np
from eglb.envs.scenario import Scenario, hourly_timestamps


def random_scenario(
    seed: int,
    n_regions: int = 4,
    n_gateways: int = 3,
    hours: int = 12,
    masked: bool = True,
    negative_prices: bool = True,
    slack: float = 0.3,
    hourly_capacity: bool = False,
) -> Scenario:
    """A random feasible scenario: loads are the column sums of a random masked routing, and
    capacities exceed that routing's region totals by up to ``slack`` (0: exactly tight)."""
    rng = np.random.default_rng(seed)
    mask = np.ones((n_regions, n_gateways), dtype=bool)
    if masked:
        mask = rng.random((n_regions, n_gateways)) < 0.5
        mask[rng.integers(n_regions, size=n_gateways), np.arange(n_gateways)] = True
    flows = rng.random((hours, n_regions, n_gateways)) * mask * rng.choice([0.0, 1.0, 3.0], size=(hours, 1, n_gateways))
    workload = flows.sum(axis=1).T
    per_hour = flows.sum(axis=2).T  # [N, T]
    if hourly_capacity:
        capacity = per_hour * (1 + slack * rng.random(per_hour.shape))
    else:
        capacity = per_hour.max(axis=1) * (1 + slack * rng.random(n_regions))
    price = rng.normal(50, 40 if negative_prices else 10, (n_regions, hours))
    if not negative_prices:
        price = np.abs(price)
    return Scenario(
        regions=[f"r{i}" for i in range(n_regions)],
        gateways=[f"g{j}" for j in range(n_gateways)],
        timestamps=hourly_timestamps("2024-01-01T00", hours),
        price=price,
        carbon=rng.random((n_regions, hours)),
        water=rng.random((n_regions, hours)) * 5,
        workload=workload,
        capacity=capacity,
        mask=mask,
        mu_water=float(rng.choice([0.0, 60.0])),
        mu_carbon=float(rng.choice([0.0, 1500.0])),
        name=f"random {seed}",
    )


def assert_feasible(scenario: Scenario, t: int, routing: np.ndarray, tol: float = 1e-9) -> None:
    """Conservation, mask, non-negativity and capacity of one hour's routing [N, J]."""
    assert routing.shape == scenario.mask.shape
    assert np.all(np.isfinite(routing))
    assert routing.min() >= -tol
    assert np.all(routing[~scenario.mask] == 0)
    scale = max(1.0, float(scenario.workload[:, t].max()))
    np.testing.assert_allclose(routing.sum(axis=0), scenario.workload[:, t], rtol=1e-9, atol=tol * scale)
    assert np.all(routing.sum(axis=1) <= scenario.capacity[:, t] * (1 + 1e-9) + tol * scale)


def random_knobs(seed: int, masked: bool = True, n_jobs: int = 5, n_models: int = 2, hours: int = 8, **options) -> Scenario:
    """A random feasible scenario with deferrable jobs (some identical, so that they pool) and a model
    choice (one model above energy 1 when ``n_models`` >= 3); capacity leaves room for the jobs."""
    from eglb.envs.flexibility import Jobs, ModelChoice

    rng = np.random.default_rng(seed + 10_000)
    base = random_scenario(seed, hours=hours, masked=masked, **options)
    n = base.n_regions
    capacity = base.capacity * 1.3 + 0.5
    release = rng.integers(0, hours - 2, n_jobs)
    deadline = np.minimum(release + rng.integers(2, 6, n_jobs), hours)
    power = rng.uniform(0.1, 0.6, n_jobs)
    energy = power * (deadline - release) * rng.uniform(0.2, 0.9, n_jobs)
    regions = rng.random((n_jobs, n)) < 0.6
    home = rng.integers(0, n, n_jobs)
    regions[np.arange(n_jobs), home] = True
    away_usd = rng.choice([0.0, 5.0, 40.0], n_jobs)
    overhead = rng.choice([0.0, 0.02, 0.1], n_jobs)
    if n_jobs >= 2:  # an identical twin: the LP pools the two
        for values in (release, deadline, power, energy, regions, home, away_usd, overhead):
            values[1] = values[0]
    jobs = Jobs(
        tuple(f"job{m}" for m in range(n_jobs)),
        energy,
        release,
        deadline,
        power,
        regions,
        home,
        away_usd,
        overhead,
        penalty=500.0,
    )
    models = None
    if n_models >= 2:
        energy_k = [1.0, 0.2, 1.4][:n_models]
        accuracy = [80.0, 65.0, 88.0][:n_models]
        models = ModelChoice(tuple(f"m{k}" for k in range(n_models)), energy_k, accuracy, target=76.0, share=0.7, penalty=3.0)
    return base.with_changes(capacity=capacity, jobs=jobs, models=models, name=f"random knobs {seed}")
