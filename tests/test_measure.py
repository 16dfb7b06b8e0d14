"""Geodesic areas and metric distances against independent reference values."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon, shape

from zonegeo.domain.crs import gk_cm_epsg
from zonegeo.domain.measure import distances_m, geodesic_area_m2, geodesic_areas_m2


def test_areas_match_geographiclib_reference(reference_areas):
    assert len(reference_areas) >= 20
    for feature in reference_areas:
        ref = feature["properties"]["ref_area_cgcs2000_m2"]
        got = geodesic_area_m2(shape(feature["geometry"]))
        assert abs(got - ref) / ref <= 1e-6, feature["properties"]["name"]


def test_areas_do_not_depend_on_ring_orientation(reference_areas):
    geoms = [shape(f["geometry"]) for f in reference_areas]
    flipped = [shapely.reverse(g) for g in geoms]
    np.testing.assert_allclose(geodesic_areas_m2(flipped), geodesic_areas_m2(geoms), rtol=1e-12)


def test_holes_are_removed(reference_areas):
    with_holes = [f for f in reference_areas if shape(f["geometry"]).geom_type == "Polygon"
                  and len(shape(f["geometry"]).interiors) > 0]
    assert with_holes, "the reference set has polygons with holes"
    for f in with_holes:
        g = shape(f["geometry"])
        assert geodesic_area_m2(g) < geodesic_area_m2(Polygon(g.exterior))


def test_empty_and_missing_geometries_have_no_area():
    assert geodesic_area_m2(None) == 0.0
    assert geodesic_area_m2(Polygon()) == 0.0


@pytest.mark.parametrize(("lon", "epsg"), [(117.2, 4548), (118.78, 4549), (120.6, 4549), (121.9, 4550)])
def test_gauss_kruger_zone_of_a_longitude(lon, epsg):
    assert gk_cm_epsg(lon) == epsg


def test_distance_to_a_boundary_agrees_with_a_geodesic():
    square = Polygon([(118.78, 32.04), (118.781, 32.04), (118.781, 32.041), (118.78, 32.041)])
    # A point due east of the east edge: the shortest way is along the parallel.
    lon, lat = 118.783, 32.0405
    _, _, ref = Geod(ellps="GRS80").inv(118.781, lat, lon, lat)
    got = distances_m(square, np.array([lon, 118.7805]), np.array([lat, 32.0405]))
    assert abs(got[0] - ref) / ref < 5e-4  # GK scale error near CM 120°E stays below 3.3e-4
    assert got[1] == 0.0
    assert Point(lon, lat).distance(square) > 0
