"""GCJ-02 and BD-09 against prcoords' reference values and a third-party shapefile's own columns."""

from __future__ import annotations

import csv

import numpy as np
import pyogrio
import pytest

from tests.conftest import real, reference
from zonegeo.domain import chinacoords as cc

M_PER_DEG = 111_320.0


@pytest.fixture(scope="module")
def ref():
    rows = list(csv.DictReader(reference("gcj02_bd09.csv").open(encoding="utf-8")))

    def col(name):
        return np.array([float(r[name]) if r[name] else np.nan for r in rows])

    return {k: col(k) for k in rows[0]}


def _metres(a_lon, a_lat, b_lon, b_lat):
    return np.hypot((a_lon - b_lon) * M_PER_DEG * np.cos(np.radians(b_lat)), (a_lat - b_lat) * M_PER_DEG)


def test_forward_transforms_within_a_millimetre(ref):
    g = cc.wgs84_to_gcj02(ref["wgs84_lon"], ref["wgs84_lat"])
    assert _metres(*g, ref["gcj02_lon"], ref["gcj02_lat"]).max() < 1e-3
    has_bd = ~np.isnan(ref["bd09_lon"])
    b = cc.gcj02_to_bd09(*cc.wgs84_to_gcj02(ref["wgs84_lon"][has_bd], ref["wgs84_lat"][has_bd]))
    assert _metres(*b, ref["bd09_lon"][has_bd], ref["bd09_lat"][has_bd]).max() < 1e-3


def test_inverse_transforms_within_a_centimetre(ref):
    w = cc.gcj02_to_wgs84(ref["gcj02_lon"], ref["gcj02_lat"])
    assert _metres(*w, ref["wgs84_lon"], ref["wgs84_lat"]).max() < 0.01
    has_bd = ~np.isnan(ref["bd09_lon"])
    w = cc.bd09_to_wgs84(ref["bd09_lon"][has_bd], ref["bd09_lat"][has_bd])
    assert _metres(*w, ref["wgs84_lon"][has_bd], ref["wgs84_lat"][has_bd]).max() < 0.01


def test_outside_china_gcj02_is_wgs84(ref):
    outside = np.isnan(ref["bd09_lon"])
    assert outside.sum() == 4
    g = cc.wgs84_to_gcj02(ref["wgs84_lon"][outside], ref["wgs84_lat"][outside])
    assert np.array_equal(g[0], ref["wgs84_lon"][outside])


def test_the_gbk_shapefiles_own_columns_agree():
    """A third party's GCJ-02, BD-09 and WGS84 columns for 341 cities (read through GDAL's LDID decoding)."""
    df = pyogrio.read_dataframe(real("gbk_shapefile", "地级市点位数据.shp"), read_geometry=False)
    assert "城市" in df.columns and "南京市" in set(df["城市"])
    w = cc.gcj02_to_wgs84(df["lng_GCJ02"].to_numpy(), df["Lat_GCJ02"].to_numpy())
    assert _metres(*w, df["Lng_WGS84"].to_numpy(), df["Lat_WGS84"].to_numpy()).max() < 0.01
    b = cc.gcj02_to_bd09(df["lng_GCJ02"].to_numpy(), df["Lat_GCJ02"].to_numpy())
    assert _metres(*b, df["Lng_BD09"].to_numpy(), df["Lat_BD09"].to_numpy()).max() < 0.01
