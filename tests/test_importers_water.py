"""The water model of SPEC section 8: Stull's wet bulb, the tower's WUE, the mix's EWIF with both factor tables."""

from __future__ import annotations

import numpy as np
import pytest
from eglb.envs.errors import InputError
from eglb.importers.water import (
    FACTORS_FILE,
    LITRES_PER_GALLON,
    offsite_ewif,
    onsite_wue,
    water_intensity,
    water_parameters,
    wet_bulb_stull,
)


def psychrometric_wet_bulb(t: float, rh: float, pressure_hpa: float = 1013.25) -> float:
    """Wet bulb by bisection on the psychrometer equation (Magnus saturation pressure): independent of Stull's fit."""

    def saturation(x):
        return 6.112 * np.exp(17.67 * x / (x + 243.5))

    vapour = rh / 100 * saturation(t)
    low, high = -60.0, t
    for _ in range(100):
        mid = (low + high) / 2
        if saturation(mid) - 6.6e-4 * pressure_hpa * (t - mid) > vapour:
            high = mid
        else:
            low = mid
    return (low + high) / 2


def test_stull_matches_his_worked_example_and_the_psychrometer_equation():
    assert wet_bulb_stull(20.0, 50.0) == pytest.approx(13.7, abs=0.05)  # Stull (2011), the paper's example
    for t in (0.0, 10.0, 25.0, 35.0, 45.0):  # above freezing, where the psychrometer constant holds
        for rh in (10.0, 30.0, 60.0, 90.0, 99.0):
            assert abs(wet_bulb_stull(t, rh) - psychrometric_wet_bulb(t, rh)) < 1.0, (t, rh)


def test_tower_wue_at_the_spec_points_and_its_clip():
    parameters = water_parameters()
    # S/(S-1) (6e-5 F^3 - 0.01 F^2 + 0.61 F - 10.40), S = 6: at 60 F 1.2 * 3.16, at 80 F 1.2 * 5.12 (SPEC: 3.8 and 6.1)
    wet_bulb_c = (np.array([60.0, 80.0, -4.0]) - 32) * 5 / 9
    np.testing.assert_allclose(onsite_wue(wet_bulb_c, parameters), [3.792, 6.144, 0.05], rtol=1e-12)
    three = water_parameters(cycles=3)
    assert onsite_wue(wet_bulb_c[0], three) == pytest.approx(1.5 * 3.16)


def test_ewif_of_hourly_and_annual_mixes_with_both_tables():
    eglb = water_parameters("eglb")
    gallon = LITRES_PER_GALLON / 1000
    np.testing.assert_allclose(offsite_ewif({"natural_gas": np.array([5.0, 7.0])}, eglb), [300 * gallon] * 2)
    hourly = {"coal": np.array([1.0, 3.0]), "wind": np.array([1.0, 1.0]), "solar": np.array([0.0, -0.5])}
    np.testing.assert_allclose(offsite_ewif(hourly, eglb), [450 * gallon / 2, 450 * gallon * 3 / 4])  # negative = 0
    annual = {"hydro": 0.2, "solar": 0.0, "wind": 0.0, "nuclear": 0.0, "fossil_fuels": 0.8}
    assert offsite_ewif(annual, eglb) == pytest.approx(0.8 * 475 * gallon)  # fossil_fuels -> "other"
    macknick = water_parameters("macknick-median")
    assert offsite_ewif(annual, macknick) == pytest.approx(0.8 * 2.6 + 0.2 * 17)  # fossil_fuels -> coal, hydro evaporates
    dry = water_parameters("macknick-median", switches={"hydro_evaporation": False})
    assert offsite_ewif(annual, dry) == pytest.approx(0.8 * 2.6) and dry.switches == {"hydro_evaporation": False}
    with pytest.raises(InputError, match="has no factor for 'geothermal'"):
        offsite_ewif({"geothermal": 1.0}, eglb)
    with pytest.raises(InputError, match="no generation"):
        offsite_ewif({"coal": np.array([0.0])}, eglb)


def test_water_intensity_adds_onsite_and_pue_times_offsite():
    parameters = water_parameters(pue=1.5)
    t, rh = np.array([30.0, 5.0]), np.array([40.0, 80.0])
    mix = {"nuclear": np.array([1.0, 1.0])}
    expected = onsite_wue(wet_bulb_stull(t, rh), parameters) + 1.5 * 600 * LITRES_PER_GALLON / 1000
    np.testing.assert_allclose(water_intensity(t, rh, mix, parameters), expected)


def test_parameters_are_documented_in_one_file_and_checked():
    text = FACTORS_FILE.read_text()
    for needle in (
        "Stull",
        "Making AI Less Thirsty",
        "NREL/TP-6A20-50900",
        "hydro_evaporation",
        "cycles_of_concentration",
        "pue:",
    ):
        assert needle in text
    default = water_parameters()
    assert default.table == "eglb" and default.cycles == 6 and default.pue == 1.0 and default.min_wue == 0.05
    with pytest.raises(InputError, match="no water factor table 'median'"):
        water_parameters("median")
    with pytest.raises(InputError, match="has no switch 'hydro'"):
        water_parameters("eglb", switches={"hydro": False})
    with pytest.raises(InputError, match="'cycles' must be a number > 1"):
        water_parameters(cycles=1)
    with pytest.raises(InputError, match="'pue' must be a number >= 1"):
        water_parameters(pue=0.9)
