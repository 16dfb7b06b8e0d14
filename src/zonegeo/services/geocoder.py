"""Geocoding the address (地址) of an uploaded institution that has neither coordinates nor a 楼栋 of the layout.

The 天地图 geocoder (``GET {url}?ds={"keyWord":"<address>"}&tk=<key>`` → ``{"status":"0","location":{"lon":..,
"lat":..,"level":..}}``, CGCS2000 lon/lat, stored as is) or any service answering the same way
(``ZONEGEO_GEOCODER_URL``). Used by uploads only, and bounded: at most ``max_rows`` addresses per upload, a timeout per
request and a total time budget. A failure (no address, timeout, a refused or unreadable answer, status ≠ 0, a point
far from the zone) leaves the row unlocated with the reason; the upload never fails because of the geocoder. A
geocoded row is located_by "geocoder" with ``needs_confirmation``: the applicant confirms it (or places it on the
map) on the register draft's page before the register can be submitted."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point
from shapely.ops import nearest_points

from zonegeo.config import Settings
from zonegeo.domain.crs import inside_jiangsu

TIANDITU_GEOCODER = "https://api.tianditu.gov.cn/geocoder"
MAX_ANSWER_BYTES = 64 * 1024  # a geocoder's answer is a few hundred bytes
MAX_ADDRESS_CHARS = 200


@dataclass(frozen=True)
class Geocoder:
    url: str
    key: str = ""
    max_rows: int = 50
    timeout_s: float = 5.0
    budget_s: float = 20.0
    max_distance_m: float = 5000.0


def from_settings(settings: Settings) -> Geocoder | None:
    """The geocoder the settings configure: an explicit ``geocoder_url``, else 天地图's when a key is set; None
    when neither (addresses are then placed on the map by the applicant)."""
    url = settings.geocoder_url.strip() or (TIANDITU_GEOCODER if settings.tianditu_key.strip() else "")
    if not url:
        return None
    return Geocoder(url=url, key=settings.tianditu_key.strip(), max_rows=max(0, settings.geocoder_max_rows),
                    timeout_s=settings.geocoder_timeout_s, budget_s=settings.geocoder_budget_s,
                    max_distance_m=settings.geocoder_max_distance_m)


class GeocodeFailed(Exception):
    """Why an address was not geocoded (a Chinese reason shown on the register draft's page)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Located:
    lon: float
    lat: float
    level: str


def request_url(geocoder: Geocoder, address: str) -> str:
    query = {"ds": json.dumps({"keyWord": address}, ensure_ascii=False, separators=(",", ":"))}
    if geocoder.key:
        query["tk"] = geocoder.key
    joiner = "&" if "?" in geocoder.url else "?"
    return geocoder.url + joiner + urllib.parse.urlencode(query)


def geocode(geocoder: Geocoder, address: str, *, timeout_s: float | None = None) -> Located:
    """One address → a lon/lat point; GeocodeFailed with the reason otherwise."""
    address = " ".join(address.split())
    if not address:
        raise GeocodeFailed("没有填写地址，无法按地址定位")
    if len(address) > MAX_ADDRESS_CHARS:
        raise GeocodeFailed(f"地址超过{MAX_ADDRESS_CHARS}个字，未做地址解析")
    request = urllib.request.Request(request_url(geocoder, address), headers={"User-Agent": "zonegeo"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s or geocoder.timeout_s) as answer:
            body = answer.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise GeocodeFailed(f"地址解析服务返回HTTP {exc.code}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise GeocodeFailed("地址解析服务超时") from None
        raise GeocodeFailed("无法连接地址解析服务") from None
    if len(body) > MAX_ANSWER_BYTES:
        raise GeocodeFailed("地址解析服务的应答过大，无法识别")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GeocodeFailed("地址解析服务的应答无法识别（不是JSON）") from None
    if not isinstance(data, dict):
        raise GeocodeFailed("地址解析服务的应答无法识别")
    if str(data.get("status")) != "0":
        said = str(data.get("msg") or data.get("message") or "").strip()[:60]
        raise GeocodeFailed(f"地址解析失败（状态{str(data.get('status'))[:10]}{'：' + said if said else ''}）")
    location = data.get("location")
    if not isinstance(location, dict):
        raise GeocodeFailed("地址解析服务的应答中没有经纬度")
    try:
        lon, lat = float(location["lon"]), float(location["lat"])
    except (TypeError, KeyError, ValueError):
        raise GeocodeFailed("地址解析服务的应答中没有经纬度") from None
    if not (math.isfinite(lon) and math.isfinite(lat)) or not inside_jiangsu(lon, lat):
        raise GeocodeFailed(f"地址解析结果（{lon:.6f}, {lat:.6f}）不在江苏省范围内")
    return Located(lon, lat, str(location.get("level") or ""))


def distance_m(boundary: Any, lon: float, lat: float) -> float:
    """How far a point lies outside ``boundary`` (0 inside), in metres (haversine to the nearest boundary point)."""
    point = Point(lon, lat)
    if boundary is None or boundary.is_empty or boundary.contains(point):
        return 0.0
    near = nearest_points(boundary, point)[0]
    p1, p2 = math.radians(lat), math.radians(near.y)
    dp, dl = p2 - p1, math.radians(near.x - lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def geocode_rows(geocoder: Geocoder, rows: list[dict[str, Any]], *, boundary: Any = None,
                 clock: Any = time.monotonic) -> list[dict[str, Any]]:
    """The unlocated register rows, each geocoded by its address within the bounds: a row placed gets lon/lat,
    located_by "geocoder", needs_confirmation and ``geocode`` (address, level, distance); a row not placed keeps
    lon/lat None and says why in ``geocode.reason``. Never raises."""
    start = clock()
    out = []
    for k, row in enumerate(rows):
        row = dict(row)
        address = str(row.get("address") or "")
        left = geocoder.budget_s - (clock() - start)
        if k >= geocoder.max_rows:
            row["geocode"] = {"address": address, "reason": f"每次上传最多按地址定位{geocoder.max_rows}家机构，"
                                                          "其余请在地图上放置"}
        elif left <= 0.05:
            row["geocode"] = {"address": address, "reason": "地址解析的总时限已到，未解析，请在地图上放置"}
        else:
            try:
                found = geocode(geocoder, address, timeout_s=min(geocoder.timeout_s, left))
                away = distance_m(boundary, found.lon, found.lat)
                if away > geocoder.max_distance_m:
                    raise GeocodeFailed(f"地址解析结果（{found.lon:.6f}, {found.lat:.6f}）距集聚区四至约"
                                        f"{away / 1000:.1f}公里，超过{geocoder.max_distance_m / 1000:g}公里，未采用")
            except GeocodeFailed as exc:
                row["geocode"] = {"address": address, "reason": exc.reason}
            else:
                row |= {"lon": found.lon, "lat": found.lat, "located_by": "geocoder", "needs_confirmation": True}
                row["geocode"] = {"address": address, "level": found.level, "distance_m": round(away, 1)}
        out.append(row)
    return out
