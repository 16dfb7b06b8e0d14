"""OGC API – Features of the published layers at /ogc: pygeoapi's API core (its features, CRS, paging, CQL2 and
OpenAPI code, which passed OGC CITE) behind a small read-only router made per app.

pygeoapi's own ``starlette_app`` is not mounted: it reads its configuration from files named by environment variables
when imported (one configuration per process), runs with ``debug=True`` and also routes processes, jobs and item
writes. Here every app gets its own pygeoapi ``API`` from the app's settings, JSON only (its HTML pages need inline
scripts and CDN assets, which the app's Content-Security-Policy refuses), and GET only."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from zonegeo.config import Settings
from zonegeo.ogc.config import CRS84, OUTPUT_CRS, for_base_url, pygeoapi_config
from zonegeo.ogc.transforms import transform_points

log = logging.getLogger("zonegeo.ogc")
MAX_QUERY_BYTES = 8192  # a CQL2 filter and its friends; longer query strings are refused
MAX_APIS = 8  # pygeoapi API objects kept, one per origin the clients used (links carry the origin)
_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")
_FID = re.compile(r"^[0-9]{1,10}$")  # the views' fid: the integer id of the zone, building or institution
MAX_FID = 2**31 - 1
HTML_FORMATS = {"html", "text/html"}
NOT_SERVED = ("/conf/html", "/conf/create-replace-delete")


def _error(status: int, code: str, message: str, detail: dict[str, Any]) -> Response:
    # the project's error shape, with the OGC exception's "description" beside it for GIS clients
    body = {"code": code, "message": message, "description": message, "detail": detail}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Access-Control-Allow-Origin": "*"})


class OgcApp:
    """The ASGI app mounted at /ogc. pygeoapi is imported and its API built on the first request, not at start-up:
    most processes (the CLI, most tests) never serve OGC requests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = pygeoapi_config(settings)
        self._apis: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        methods = ["GET", "HEAD", "OPTIONS"]
        self.router = Router(routes=[
            Route("/", self._endpoint("landing_page"), methods=methods),
            Route("/openapi", self._endpoint("openapi_"), methods=methods),
            Route("/conformance", self._endpoint("conformance"), methods=methods),
            Route("/collections", self._endpoint("describe_collections"), methods=methods),
            Route("/collections/{collection_id}", self._endpoint("describe_collections", "collection_id"), methods=methods),
            Route("/collections/{collection_id}/queryables",
                  self._endpoint("get_collection_queryables", "collection_id", module="itemtypes"), methods=methods),
            Route("/collections/{collection_id}/schema",
                  self._endpoint("get_collection_schema", "collection_id"), methods=methods),
            Route("/collections/{collection_id}/items",
                  self._endpoint("get_collection_items", "collection_id", module="itemtypes"), methods=methods),
            Route("/collections/{collection_id}/items/{item_id}",
                  self._endpoint("get_collection_item", "collection_id", "item_id", module="itemtypes"), methods=methods),
        ], redirect_slashes=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            response = _error(405, "method_not_allowed", "公开数据服务（OGC API）只读，只接受 GET 请求",
                              {"method": scope["method"]})
            await response(scope, receive, send)
            return
        await self.router(scope, receive, send)

    # ---- pygeoapi --------------------------------------------------------------------------------------------

    def _api(self, base_url: str) -> Any:
        """The pygeoapi API whose links start at ``base_url`` (built once per origin, at most ``MAX_APIS`` kept)."""
        with self._lock:
            api = self._apis.get(base_url)
            if api is not None:
                self._apis.move_to_end(base_url)
                return api
        from pygeoapi.api import API
        from pygeoapi.openapi import get_oas

        config = for_base_url(self.config, base_url)
        api = API(config, get_oas(config, fail_on_invalid_collection=False))
        # pygeoapi warns on every request (DATE columns, a missing offset) and logs clients' bad parameters with
        # tracebacks: its errors only; ours (below) name the operation of every 5xx
        logging.getLogger("pygeoapi").setLevel(logging.ERROR)
        with self._lock:
            self._apis[base_url] = api
            while len(self._apis) > MAX_APIS:
                self._apis.popitem(last=False)
        return api

    def _base_url(self, request: Request) -> str:
        host = request.headers.get("host", "")
        if not _HOST.match(host):
            host = f"{self.settings.host}:{self.settings.port}"
        scheme = "https" if request.url.scheme == "https" else "http"
        return f"{scheme}://{host}{request.scope.get('root_path', '')}".rstrip("/")

    def _endpoint(self, function: str, *params: str, module: str = "") -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":  # CORS preflight: public data, no credentials
                return Response(status_code=204, headers={
                    "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                    "Access-Control-Allow-Headers": "Accept, Content-Type"})
            if len(request.scope.get("query_string", b"")) > MAX_QUERY_BYTES:
                return _error(414, "query_too_long", f"查询参数过长：最多 {MAX_QUERY_BYTES} 字节",
                              {"max_bytes": MAX_QUERY_BYTES})
            refused = _refused(request)
            if refused is not None:
                return refused
            _json_only(request.scope, request.headers.get("accept", ""))
            _bbox_in_crs84(request.scope)
            request = Request(request.scope, request.receive)  # the query as rewritten
            return await self._call(request, function, module, [request.path_params[p] for p in params])

        return endpoint

    async def _call(self, request: Request, function: str, module: str, args: list[str]) -> Response:
        from pygeoapi import api as core
        from pygeoapi.api import APIRequest, itemtypes

        try:
            api = await anyio.to_thread.run_sync(self._api, self._base_url(request))
        except Exception:  # pygeoapi reads the views when it starts: the database may be down or not migrated
            log.exception("pygeoapi could not start")
            return _error(503, "ogc_unavailable", "公开数据服务（OGC API）暂时无法读取数据，请稍后重试",
                          {"operation": function})
        handler = getattr(itemtypes if module == "itemtypes" else core, function)
        api_request = await APIRequest.from_starlette(request, api.locales)
        if not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            try:
                headers, status, content = await anyio.to_thread.run_sync(self._run, handler, api, api_request, args)
            except Exception:  # a fault pygeoapi did not turn into an answer of its own
                log.exception("pygeoapi %s failed", function)
                return _error(503, "ogc_unavailable", "公开数据服务（OGC API）暂时无法读取数据，请稍后重试",
                              {"operation": function})
        if function == "conformance" and int(status) == 200:
            content = _served_conformance(content)
        return _response(headers, int(status), content, function)

    def _run(self, handler: Callable[..., Any], api: Any, api_request: Any, args: list[str]) -> Any:
        if handler.__name__ != "conformance":
            return handler(api, api_request, *args)
        from pygeoapi import api as core

        with self._lock:  # pygeoapi 0.21 extends its module-level list of classes at every call: put it back
            size = len(core.CONFORMANCE_CLASSES)
            try:
                return handler(api, api_request, *args)
            finally:
                del core.CONFORMANCE_CLASSES[size:]


def _refused(request: Request) -> Response | None:
    """What pygeoapi would pass to PostgreSQL unchecked (a failed query, answered 500): a feature id that is not a
    number, a ``datetime`` that is not an ISO 8601 date, time or interval."""
    item_id = request.path_params.get("item_id")
    if item_id is not None and not (_FID.match(item_id) and int(item_id) <= MAX_FID):
        return _error(404, "NotFound", f"未找到要素“{item_id[:40]}”：要素编号应为数字", {"item_id": item_id[:40]})
    value = request.query_params.get("datetime")
    if value is not None and not all(part == ".." or _instant(part) for part in value.split("/", 1)):
        return _error(400, "InvalidParameterValue",
                      f"请求参数不正确：datetime“{value[:60]}”应为 ISO 8601 日期、时刻或以“/”分隔的区间（开放端写“..”）",
                      {"datetime": value[:60]})
    return None


def _instant(text: str) -> bool:
    try:
        (dt.datetime if "T" in text else dt.date).fromisoformat(text)
    except ValueError:
        return False
    return True


def _bbox_in_crs84(scope: Scope) -> None:
    """A ``bbox`` in EPSG:4490 or EPSG:4549 (``bbox-crs``, in that CRS's axis order) given to pygeoapi in CRS84, its
    storage CRS: pygeoapi would build a new transformation for it at every request (about 2 s). The four corners
    are transformed, so the box holds the whole area whatever the grid's rotation."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    params = dict(query)
    crs, bbox = params.get("bbox-crs", ""), params.get("bbox", "")
    if crs not in OUTPUT_CRS or crs == CRS84 or not bbox:
        return
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:  # not four numbers: pygeoapi's own answer (400) names the problem
        return
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return
    xs, ys = transform_points(crs, CRS84, [x0, x0, x1, x1], [y0, y1, y0, y1])
    box = ",".join(repr(v) for v in (min(xs), min(ys), max(xs), max(ys)))
    query = [(k, box if k == "bbox" else v) for k, v in query if k != "bbox-crs"]
    scope["query_string"] = urlencode(query).encode("latin-1")


def _json_only(scope: Scope, accept: str) -> None:
    """HTML asked for (``f=html`` or a browser's Accept) is answered with JSON: pygeoapi's HTML pages run inline
    scripts and load Leaflet from a CDN, which the app's Content-Security-Policy refuses."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    asked = [v for k, v in query if k == "f"]
    if any(v.lower() in HTML_FORMATS for v in asked) or (not asked and "text/html" in accept):
        query = [(k, v) for k, v in query if k != "f"] + [("f", "json")]
        scope["query_string"] = urlencode(query).encode("latin-1")


def _served_conformance(content: Any) -> bytes:
    """pygeoapi's classes less those this mount does not serve: HTML (JSON only) and item writes (read only)."""
    body = orjson.loads(content)
    body["conformsTo"] = [c for c in body["conformsTo"] if not c.endswith(NOT_SERVED)]
    return orjson.dumps(body)


def _response(headers: dict[str, str], status: int, content: Any, function: str) -> Response:
    if status >= 500:  # a database outage or a pygeoapi fault: say so in Chinese, never a bare 500
        log.error("pygeoapi %s answered %s: %s", function, status, str(content)[:500])
        return _error(503, "ogc_unavailable", "公开数据服务（OGC API）暂时无法读取数据，请稍后重试",
                      {"operation": function})
    if status >= 400 and headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            body = {"description": str(content)}
        message = ("未找到所请求的集合或要素" if status == 404 else "请求参数不正确") + f"：{body.get('description', '')}"
        return _error(status, str(body.get("code", "ogc_request_invalid")), message,
                      {"ogc": {"code": body.get("code"), "description": body.get("description")}})
    if isinstance(content, dict):
        content = orjson.dumps(content)
    response = Response(content, status_code=status)
    response.headers.update(headers)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
