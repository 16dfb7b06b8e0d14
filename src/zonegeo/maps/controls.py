"""Map controls for site visits: measure (distance and area), fullscreen, locate-me, minimap. Their Chinese words
are set here and in assets/zonegeo/zonegeo.js; their phone sizes and print rules in assets/zonegeo/zonegeo.css."""

from __future__ import annotations

import folium
from folium import plugins

from zonegeo.maps import assets

LOCATE_STRINGS = {"title": "显示我的位置", "metersUnit": "米", "feetUnit": "英尺",
                  "popup": "您在此点 {distance} {unit} 范围内", "outsideMapBoundsMsg": "您似乎位于地图范围之外"}
MINIMAP_STRINGS = {"hideText": "隐藏鹰眼图", "showText": "显示鹰眼图"}


def add_site_controls(m: folium.Map, *, asset_base: str, minimap: bool = True) -> None:
    assets.localize(plugins.MeasureControl(position="topleft", primary_length_unit="meters",
                                           secondary_length_unit="kilometers", primary_area_unit="sqmeters",
                                           secondary_area_unit="hectares"), "measure", asset_base).add_to(m)
    assets.localize(plugins.Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏"),
                    "fullscreen", asset_base).add_to(m)
    assets.localize(plugins.LocateControl(position="topleft", strings=LOCATE_STRINGS,
                                          flyTo=True, showPopup=False), "locate", asset_base).add_to(m)
    if minimap:
        tiles = folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", attr="OpenStreetMap")
        assets.localize(plugins.MiniMap(tile_layer=tiles, position="bottomleft", toggle_display=True,
                                        zoom_level_offset=-5, strings=MINIMAP_STRINGS), "minimap", asset_base).add_to(m)
