"""GCJ-02 (Amap/Tencent) and BD-09 (Baidu) coordinates: the published forward formulas and iterative
inverses accurate to well below 1 cm. Vectorised over numpy arrays; pure math, no I/O.

GCJ-02 is not an EPSG CRS: it is WGS84 with a deliberate non-linear offset of a few hundred metres inside
mainland China (outside China the offset is not applied). BD-09 is a further offset of GCJ-02.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

_A = 6378245.0  # Krasovsky semi-major axis used by the published algorithm
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

Pair = tuple[np.ndarray, np.ndarray]  # (longitudes, latitudes)


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> Pair:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
             + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
             + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
             + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
             + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
             + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
             + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _delta(lon, lat)
    out = _out_of_china(lon, lat)
    return np.where(out, lon, lon + d_lon), np.where(out, lat, lat + d_lat)


def _invert(forward: Callable[[np.ndarray, np.ndarray], Pair], lon: np.ndarray, lat: np.ndarray, start: Pair, *,
            tol_deg: float, max_iter: int) -> Pair:
    """Solve forward(x) = (lon, lat) by fixed-point iteration from ``start``; the offsets are smooth and small,
    so each step divides the error by about 10^4."""
    x_lon, x_lat = start
    for _ in range(max_iter):
        f_lon, f_lat = forward(x_lon, x_lat)
        e_lon, e_lat = f_lon - lon, f_lat - lat
        x_lon, x_lat = x_lon - e_lon, x_lat - e_lat
        if max(np.abs(e_lon).max(initial=0), np.abs(e_lat).max(initial=0)) < tol_deg:
            break
    return x_lon, x_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30) -> Pair:
    """Iterating the forward formula converges to < 1e-10° (about 0.01 mm)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return _invert(wgs84_to_gcj02, lon, lat, (lon.copy(), lat.copy()), tol_deg=tol_deg, max_iter=max_iter)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> Pair:
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30) -> Pair:
    """The usual closed-form inverse is off by up to 0.14 m; refine it by iterating the forward formula."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return _invert(gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat), tol_deg=tol_deg, max_iter=max_iter)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
