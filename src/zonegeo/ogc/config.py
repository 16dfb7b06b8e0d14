"""The pygeoapi configuration of the published layers, made from the app's settings (no file, no extra step)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.engine import make_url

from zonegeo import __version__
from zonegeo.config import Settings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"  # geographic, lat/lon axes
GK_120E = "http://www.opengis.net/def/crs/EPSG/0/4549"  # CGCS2000 3-degree Gauss-Kruger CM 120E, northing/easting
OUTPUT_CRS = (CRS84, CGCS2000, GK_120E)
JIANGSU_BBOX = [116.35, 30.75, 121.95, 35.15]  # lon/lat, CRS84
DEFAULT_ITEMS = 100
MAX_ITEMS = 1000
# The views of migration 0013 hold only what the public may see (services/disclosure.py); their geometry is the
# stored CGCS2000 lon/lat labelled SRID 4326, which is how pygeoapi's PostgreSQL provider reads a CRS84 storage CRS.
COLLECTIONS: dict[str, dict[str, Any]] = {
    "zones": {"table": "published_zones", "time_field": "effective_on", "title": "集聚区四至范围",
              "description": "已公开、未被取消称号的集聚区，其经批准的空间布局的四至范围（code 集聚区编号，version 空间布局版本，"
                             "effective_on 版本生效日期）。"},
    "core_areas": {"table": "published_core_areas", "time_field": "effective_on", "title": "集聚区核心区",
                   "description": "已公开集聚区经批准的空间布局中的核心区范围。"},
    "buildings": {"table": "published_buildings", "time_field": "effective_on", "title": "集聚区建筑",
                  "description": "已公开集聚区经批准的空间布局中的建筑（floors 层数，floors_used 集聚区使用层数，"
                                 "declared_floor_area_m2 申报建筑面积）。"},
    "institutions": {"table": "published_institutions", "time_field": "entered_on", "title": "入驻知识产权服务机构",
                     "description": "已公开集聚区内在册的知识产权服务机构（entered_on 准入日期）。自然人（个体工商户）"
                                    "及无效的统一社会信用代码不公开。"},
    "platforms": {"table": "published_platforms", "time_field": "entered_on", "title": "公共服务平台",
                  "description": "已公开集聚区内在册的知识产权保护中心、快速维权中心、业务窗口等公共服务平台。"},
}


def connection(settings: Settings) -> tuple[dict[str, Any], dict[str, str]]:
    """The provider's ``data`` (host, port, database, the app's own role) and ``options`` (libpq keywords) from
    the database URL the app connects with: read-only transactions, JIT off, a statement time limit."""
    url = make_url(settings.database_url)
    data: dict[str, Any] = {"host": url.host, "dbname": url.database, "user": url.username,
                            "password": url.password, "search_path": ["public"]}
    if url.port:
        data["port"] = url.port
    options = {"options": "-c default_transaction_read_only=on -c jit=off -c statement_timeout=20000"}
    for key, value in url.query.items():  # e.g. ?host=/var/run/postgresql (a local socket)
        if isinstance(value, str):
            options[key] = value
    return data, options


def _resource(collection: str, spec: dict[str, Any], data: dict[str, Any], options: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "collection",
        "title": spec["title"],
        "description": spec["description"],
        "keywords": ["知识产权服务业集聚发展区", "江苏省", spec["title"]],
        "links": [],
        "extents": {"spatial": {"bbox": JIANGSU_BBOX, "crs": CRS84}},
        "providers": [{
            "type": "feature",
            "name": "zonegeo.ogc.provider.PublishedProvider",
            "data": data,
            "options": options,
            "id_field": "fid",
            "table": spec["table"],
            "geom_field": "geom",
            "time_field": spec["time_field"],
            "storage_crs": CRS84,
            "crs": list(OUTPUT_CRS),
        }],
    }


def pygeoapi_config(settings: Settings) -> dict[str, Any]:
    """The whole configuration; ``server.url`` is set per request origin by :func:`for_base_url`."""
    data, options = connection(settings)
    return {
        "server": {
            "bind": {"host": settings.host, "port": settings.port},
            "url": f"http://{settings.host}:{settings.port}/ogc",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["zh-CN"],
            "limits": {"default_items": DEFAULT_ITEMS, "max_items": MAX_ITEMS, "on_exceed": "throttle"},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "attribution": "© OpenStreetMap contributors"},
            "pretty_print": False,
            "admin": False,
            "cors": True,
        },
        "logging": {"level": "WARNING"},
        "metadata": {
            "identification": {
                "title": "江苏省知识产权服务业集聚发展区公开数据（OGC API – Features）",
                "description": "已公开的集聚区四至范围、核心区、建筑、入驻服务机构和公共服务平台。坐标为 CGCS2000"
                               "（按 CRS84 提供，也可请求 EPSG:4490 和 EPSG:4549）。",
                "keywords": ["知识产权", "集聚区", "OGC API", "江苏"],
                "keywords_type": "theme",
                "terms_of_service": "",
                "url": "/",
            },
            "license": {"name": "公开数据，引用请注明来源：江苏省知识产权局", "url": "/"},
            "provider": {"name": "江苏省知识产权局", "url": "/"},
            "contact": {"name": "江苏省知识产权局", "position": "", "address": "", "city": "南京市",
                        "stateorprovince": "江苏省", "postalcode": "", "country": "中国", "phone": "", "fax": "",
                        "email": "", "url": "", "hours": "", "instructions": "", "role": "pointOfContact"},
            "version": __version__,
        },
        "resources": {name: _resource(name, spec, data, options) for name, spec in COLLECTIONS.items()},
    }


def for_base_url(config: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A copy of ``config`` whose links start at ``base_url`` (the origin the client used, with the mount prefix)."""
    out = copy.deepcopy(config)
    out["server"]["url"] = base_url
    return out
