"""The Scenario dataclass: construction, immutability, slicing and every validation error."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.envs.scenario import Scenario, hourly_timestamps
from eglb.envs.synthetic import make_synthetic
from helpers import random_scenario
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog


def fields_of(scenario: Scenario) -> dict:
    return dict(
        regions=scenario.regions,
        gateways=scenario.gateways,
        timestamps=scenario.timestamps,
        price=scenario.price,
        carbon=scenario.carbon,
        water=scenario.water,
        workload=scenario.workload,
        capacity=scenario.capacity,
        mask=scenario.mask,
        mu_water=scenario.mu_water,
        mu_carbon=scenario.mu_carbon,
    )


def changed(scenario: Scenario, **changes) -> dict:
    values = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in fields_of(scenario).items()}
    values.update(changes)
    return values


@pytest.fixture
def base():
    return random_scenario(3, n_regions=3, n_gateways=2, hours=6, masked=False)


def test_arrays_are_read_only_and_capacity_vector_is_repeated(base):
    assert base.price.flags.writeable is False
    with pytest.raises(ValueError):
        base.price[0, 0] = 1.0
    with pytest.raises(AttributeError):
        base.mu_water = 3.0
    again = Scenario(**changed(base, capacity=base.capacity[:, 0].copy()))
    assert again.capacity.shape == (3, 6)
    np.testing.assert_array_equal(again.capacity, np.repeat(base.capacity[:, :1], 6, axis=1))


def test_window_and_slicing_give_scenarios(base):
    part = base[2:5]
    assert isinstance(part, Scenario) and part.n_hours == 3
    np.testing.assert_array_equal(part.price, base.price[:, 2:5])
    np.testing.assert_array_equal(part.timestamps, base.timestamps[2:5])
    assert part == base.window(2, 5)
    assert part != base
    with pytest.raises(InputError, match="not inside"):
        base.window(4, 9)
    with pytest.raises(InputError, match="contiguous"):
        base[::2]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: {"price": np.where(np.arange(6) == 2, np.nan, s.price)},
            r"price\[0, 2\] \(region 'r0', hour 2 \(2024-01-01T02:00\)\): price must be a finite number",
        ),
        (lambda s: {"carbon": s.carbon - np.eye(3, 6)}, r"carbon\[0, 0\] .*must be >= 0"),
        (lambda s: {"water": s.water * np.where(np.arange(6) == 5, -1, 1)}, r"water\[0, 5\] .*must be >= 0"),
        (lambda s: {"workload": -s.workload - 1}, r"workload\[0, 0\] \(gateway 'g0'.*must be >= 0"),
        (lambda s: {"capacity": -np.ones(3)}, r"capacity\[0, 0\] .*must be >= 0"),
        (lambda s: {"capacity": np.ones(4)}, r"'capacity' has shape \(4,\)"),
        (lambda s: {"price": s.price[:, :5]}, r"'price' has shape \(3, 5\), expected \(3, 6\)"),
        (lambda s: {"workload": s.workload[:1]}, r"'workload' has shape \(1, 6\), expected \(2, 6\)"),
        (lambda s: {"timestamps": np.r_[s.timestamps[:3], s.timestamps[2:5]]}, r"timestamps\[3\] duplicates"),
        (lambda s: {"timestamps": s.timestamps[::-1]}, r"timestamps\[1\] .*earlier"),
        (lambda s: {"mask": np.array([[1, 0], [1, 0], [1, 0]])}, r"gateway 'g1' \(column 1\) with no region"),
        (lambda s: {"mask": np.full((3, 2), 2)}, r"mask\[0, 0\] must be 0 or 1"),
        (lambda s: {"mu_water": -1.0}, r"'mu_water' must be a finite number in 0..1e\+12"),
        (lambda s: {"regions": ("a", "b", "a")}, r"regions\[2\] repeats the name 'a'"),
        (lambda s: {"price": [["x"] * 6] * 3}, r"'price' must be numeric"),
    ],
)
def test_bad_input_names_the_place(base, change, message):
    with pytest.raises(InputError, match=message):
        Scenario(**changed(base, **change(base)))


def test_an_hour_that_cannot_be_served_is_named(base):
    workload = np.array(base.workload, copy=True)
    workload[:, 4] = base.capacity[:, 4].sum()  # twice the capacity in hour 4
    with pytest.raises(InputError, match=r"hour 4 \(2024-01-01T04:00\): the workload cannot be served"):
        Scenario(**changed(base, workload=workload))


def test_infeasibility_under_a_mask_names_the_gateways_and_regions():
    mask = np.array([[1, 1], [0, 1]], dtype=bool)  # g0 can only use r0
    with pytest.raises(
        InputError, match=r"hour 1 .*gateways \['g0'\] need 2 MW but the regions allowed to serve them \['r0'\] have 1 MW"
    ):
        Scenario(
            regions=["r0", "r1"],
            gateways=["g0", "g1"],
            timestamps=hourly_timestamps("2024-01-01", 2),
            price=np.ones((2, 2)),
            carbon=np.ones((2, 2)),
            water=np.ones((2, 2)),
            workload=np.array([[1.0, 2.0], [0.0, 0.0]]),
            capacity=np.ones(2),
            mask=mask,
        )


def lp_feasible(workload, capacity, mask) -> bool:
    n, j = mask.shape
    pairs = np.argwhere(mask)
    a_eq = np.zeros((j, len(pairs)))
    a_eq[pairs[:, 1], np.arange(len(pairs))] = 1
    a_ub = np.zeros((n, len(pairs)))
    a_ub[pairs[:, 0], np.arange(len(pairs))] = 1
    result = linprog(np.zeros(len(pairs)), A_ub=a_ub, b_ub=capacity, A_eq=a_eq, b_eq=workload, method="highs")
    return result.status == 0


@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), j=st.integers(1, 5), hall=st.booleans())
def test_hourly_feasibility_check_agrees_with_an_lp(seed, n, j, hall):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, j)) < 0.5
    mask[rng.integers(n, size=j), np.arange(j)] = True
    workload = rng.random((j, 1)) * rng.choice([0.5, 1, 2], size=(j, 1))
    capacity = rng.random(n) * (j / n)
    expected = lp_feasible(workload[:, 0], capacity, mask)
    build = lambda: Scenario(  # noqa: E731
        regions=[f"r{i}" for i in range(n)],
        gateways=[f"g{k}" for k in range(j)],
        timestamps=hourly_timestamps("2024-01-01", 1),
        price=np.zeros((n, 1)),
        carbon=np.zeros((n, 1)),
        water=np.zeros((n, 1)),
        workload=workload,
        capacity=capacity,
        mask=mask,
    )
    if expected:
        build()
    else:
        with pytest.raises(InputError, match="cannot be served"):
            build()


def test_many_distinct_neighbourhoods_use_the_max_flow_check():
    # 12 gateways with 12 different masks: above the enumeration limit, so one max-flow per hour.
    n = j = 12
    mask = np.eye(n, dtype=bool) | np.eye(n, k=1, dtype=bool)
    workload = np.ones((j, 3))
    workload[0, 2] = 3.0  # gateway 0 may use regions 0 and 1 only: 3 MW > 2 MW
    with pytest.raises(InputError, match=r"hour 2 "):
        Scenario(
            regions=[f"r{i}" for i in range(n)],
            gateways=[f"g{k}" for k in range(j)],
            timestamps=hourly_timestamps("2024-01-01", 3),
            price=np.zeros((n, 3)),
            carbon=np.zeros((n, 3)),
            water=np.zeros((n, 3)),
            workload=workload,
            capacity=np.ones(n),
            mask=mask,
        )


def test_mask_classes_group_identical_columns(published_partial):
    classes = published_partial.mask_classes
    assert classes.count == 5
    for members in classes.members:
        columns = published_partial.mask[:, list(members)]
        assert (columns == columns[:, :1]).all()
    np.testing.assert_allclose(classes.demand(published_partial.workload).sum(axis=0), published_partial.total_workload)


def test_metadata_travels_with_slices_and_changes_but_not_into_equality(base):
    described = base.with_changes(metadata={"source": "history", "fills": {"price": 3}})
    assert described == base  # metadata describes the inputs; it is not one of them
    assert described.metadata == {"source": "history", "fills": {"price": 3}}
    assert base.metadata == {}
    assert described[1:4].metadata == described.metadata
    assert described.with_changes(mu_water=1.0).metadata["source"] == "history"
    with pytest.raises(InputError, match="'metadata' must be a mapping"):
        base.with_changes(metadata=["not", "a", "mapping"])


@pytest.mark.parametrize("field, index", [("price", (2, 3)), ("workload", (1, 0)), ("capacity", (0, 4)), ("water", (3, 3))])
def test_magnitudes_that_would_overflow_the_objective_are_refused(field, index):
    scenario = make_synthetic(0, hours=8)
    values = np.array(getattr(scenario, field), copy=True)
    values[index] = 1e308
    with pytest.raises(InputError, match=rf"{field}\[{index[0]}, {index[1]}\] .*= 1e\+308 is beyond 1e\+12 in magnitude"):
        scenario.with_changes(**{field: values})
    with pytest.raises(InputError, match=r"'mu_carbon' must be a finite number in 0..1e\+12"):
        scenario.with_changes(mu_carbon=1e300)
