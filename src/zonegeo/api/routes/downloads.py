"""Downloads of a published zone's approved layout (GeoPackage, GeoJSON): public, with the public's disclosure
policy, whoever asks (the published views of migration 0013 decide what is in them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zonegeo.api.bounds import ZoneCode
from zonegeo.api.deps import SessionDep, Viewer
from zonegeo.ogc import layout

router = APIRouter(tags=["公开数据"])


def _file(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/zones/{code}/layout.gpkg", response_class=Response,
            responses={200: {"content": {layout.GPKG_TYPE: {}}}},
            summary="下载已公开集聚区经批准的空间布局（GeoPackage，CGCS2000）")
def layout_gpkg(code: ZoneCode, session: SessionDep, user: Viewer) -> Response:
    frames = layout.published_layout(session, code)
    return _file(layout.to_gpkg(frames), layout.GPKG_TYPE, f"{code}-layout.gpkg")


@router.get("/zones/{code}/layout.geojson", response_class=Response,
            responses={200: {"content": {layout.GEOJSON_TYPE: {}}}},
            summary="下载已公开集聚区经批准的空间布局（GeoJSON，RFC 7946）")
def layout_geojson(code: ZoneCode, session: SessionDep, user: Viewer) -> Response:
    frames = layout.published_layout(session, code)
    return _file(layout.to_geojson(frames), layout.GEOJSON_TYPE, f"{code}-layout.geojson")
