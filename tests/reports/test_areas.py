import pytest
from django.core.exceptions import ValidationError

from reports.areas import area_descendants, area_for_point, boundary_error
from reports.models import Area


def box(west, south, east, north):
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


SECTOR = {"type": "Polygon", "coordinates": [box(-0.13, 51.44, -0.09, 51.48)]}
# Brixton: the southern half of the sector, with a park cut out of it.
BRIXTON = {"type": "Polygon", "coordinates": [box(-0.13, 51.44, -0.09, 51.465), box(-0.12, 51.45, -0.11, 51.455)]}
STOCKWELL = {"type": "MultiPolygon", "coordinates": [[box(-0.13, 51.465, -0.11, 51.48)],
                                                      [box(-0.105, 51.47, -0.095, 51.475)]]}


@pytest.fixture
def lambeth(db):
    sector = Area.objects.create(code="lambeth", name="Lambeth", kind=Area.Kind.SECTOR, boundary=SECTOR)
    brixton = Area.objects.create(code="brixton", name="Brixton", parent=sector, boundary=BRIXTON)
    stockwell = Area.objects.create(code="stockwell", name="Stockwell", parent=sector, boundary=STOCKWELL)
    elsewhere = Area.objects.create(code="elsewhere", name="No map", parent=sector)
    return {"sector": sector, "brixton": brixton, "stockwell": stockwell, "elsewhere": elsewhere}


def test_a_point_in_a_beat_finds_the_beat_not_its_sector(lambeth):
    assert area_for_point(51.4613, -0.1145) == lambeth["brixton"]


def test_a_point_in_either_part_of_a_multipolygon_finds_it(lambeth):
    assert area_for_point(51.47, -0.12) == lambeth["stockwell"]
    assert area_for_point(51.472, -0.1) == lambeth["stockwell"]


def test_a_point_in_a_hole_of_a_beat_falls_back_to_the_sector(lambeth):
    assert area_for_point(51.452, -0.115) == lambeth["sector"]


def test_a_point_in_the_sector_outside_every_beat_finds_the_sector(lambeth):
    assert area_for_point(51.47, -0.092) == lambeth["sector"]


def test_a_point_outside_every_area_finds_none(lambeth):
    assert area_for_point(51.5074, -0.1278) is None
    assert area_for_point(-51.4613, 0.1145) is None


def test_decimal_coordinates_are_accepted(lambeth):
    from decimal import Decimal

    assert area_for_point(Decimal("51.461300"), Decimal("-0.114500")) == lambeth["brixton"]


def test_area_descendants_are_the_area_and_everything_under_it(lambeth):
    assert set(area_descendants(lambeth["sector"])) == {lambeth[k] for k in lambeth}
    assert area_descendants(lambeth["brixton"]) == [lambeth["brixton"]]


@pytest.mark.parametrize("boundary, words", [
    ("a box", "GeoJSON object"),
    ({"type": "Point", "coordinates": [0, 0]}, "Polygon"),
    ({"type": "Polygon", "coordinates": []}, "non-empty list of rings"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4 positions"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [181, 0], [1, 1], [0, 0]]]}, "longitude 181"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 91], [1, 1], [0, 0]]]}, "latitude 91"),
    ({"type": "Polygon", "coordinates": [[[0, 0], ["1", 0], [1, 1], [0, 0]]]}, "not [longitude, latitude]"),
    ({"type": "Polygon", "coordinates": [box(0, 0, 2, 2), [[0, 0], [1, 1]]]}, "hole 1"),
    ({"type": "MultiPolygon", "coordinates": [[box(0, 0, 1, 1)], "x"]}, "Polygon 2"),
    ({"type": "MultiPolygon", "coordinates": []}, "non-empty list of polygons"),
])
def test_boundary_error_says_what_is_wrong(boundary, words):
    assert words in boundary_error(boundary)


def test_a_valid_boundary_has_no_error():
    assert boundary_error(SECTOR) is None
    assert boundary_error(STOCKWELL) is None


def test_area_clean_refuses_a_bad_boundary(db):
    area = Area(code="bad", name="Bad", boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]})
    with pytest.raises(ValidationError) as caught:
        area.full_clean()
    assert "at least 4 positions" in caught.value.message_dict["boundary"][0]
