"""Zone and mask polygons: validation and rasterisation."""

from __future__ import annotations

import numpy as np
import pytest

from porchlight_edge.motion import MotionConfig, Zone, rasterise, validate_polygon


def test_valid_polygon_is_normalised_to_float_tuples() -> None:
    poly = validate_polygon([[0, 0], [1, 0], [0.5, 1]])
    assert poly == ((0.0, 0.0), (1.0, 0.0), (0.5, 1.0))
    assert Zone("porch", poly).polygon == poly


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(0, 0), (1, 0)], "at least 3 points"),
        ([(0, 0), (1.2, 0), (0, 1)], r"outside 0\.\.1"),
        ([(0, 0), (1, 0), (0, -0.1)], r"outside 0\.\.1"),
        ([(0, 0), (1, 0), (0, 1, 2)], r"must be \[x, y\]"),
        ([(0, 0), (float("nan"), 0), (0, 1)], "non-finite"),
        ([(0, 0), (0.5, 0.5), (1, 1)], "no area"),
    ],
)
def test_invalid_polygons_say_what_is_wrong(points: list[tuple[float, ...]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_polygon(points)


def test_zone_errors_name_the_zone_and_need_a_name() -> None:
    with pytest.raises(ValueError, match="zone 'door'"):
        Zone("door", [(0, 0), (2, 0), (0, 1)])
    with pytest.raises(ValueError, match="name"):
        Zone(" ", [(0, 0), (1, 0), (0, 1)])


def test_config_validates_masks_and_sensitivity() -> None:
    with pytest.raises(ValueError, match="mask 0"):
        MotionConfig(masks=(((0.0, 0.0), (1.0, 0.0)),))
    with pytest.raises(ValueError, match="threshold"):
        MotionConfig(threshold=300)


def test_rasterise_fills_the_right_pixels() -> None:
    left_half = validate_polygon([(0, 0), (0.5, 0), (0.5, 1), (0, 1)])
    mask = rasterise([left_half], 101, 51)
    assert mask.shape == (51, 101)
    assert mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 255}
    assert mask[:, :50].all()
    assert not mask[:, 52:].any()


def test_rasterise_full_frame_and_union_and_empty() -> None:
    full = validate_polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    assert rasterise([full], 64, 36).all()
    assert not rasterise([], 64, 36).any()
    tl = validate_polygon([(0, 0), (0.25, 0), (0.25, 0.25), (0, 0.25)])
    br = validate_polygon([(0.75, 0.75), (1, 0.75), (1, 1), (0.75, 1)])
    both = rasterise([tl, br], 100, 100)
    assert both[5, 5]
    assert both[95, 95]
    assert not both[50, 50]
    # A triangle covers about half of its bounding square.
    tri = validate_polygon([(0, 0), (1, 0), (0, 1)])
    share = np.count_nonzero(rasterise([tri], 200, 200)) / 200**2
    assert 0.48 < share < 0.53
