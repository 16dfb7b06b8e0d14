"""Map controls for site visits: measure (distance and area), fullscreen, locate-me, minimap, legend, print."""

from __future__ import annotations

import folium
from folium import plugins

from zonegeo.maps import assets

PRINT_AND_PHONE_CSS = """
<style>
.zg-popup th{text-align:left;padding-right:8px;color:#555;white-space:nowrap;vertical-align:top}
.zg-popup td{word-break:break-all}
@media (max-width:480px){.leaflet-control-minimap{display:none!important}.leaflet-control-measure{display:none}}
@media print{
 @page{size:A4 landscape;margin:8mm}
 .leaflet-control-layers,.leaflet-control-zoom,.leaflet-control-measure,.leaflet-control-locate,
 .leaflet-control-fullscreen,.leaflet-control-minimap{display:none!important}
 .zg-panel{box-shadow:none;border:1px solid #333}
}
</style>"""


def add_site_controls(m: folium.Map, *, asset_base: str, minimap: bool = True) -> None:
    assets.localize(plugins.MeasureControl(position="topleft", primary_length_unit="meters",
                                           secondary_length_unit="kilometers", primary_area_unit="sqmeters",
                                           secondary_area_unit="hectares"), "measure", asset_base).add_to(m)
    assets.localize(plugins.Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏"),
                    "fullscreen", asset_base).add_to(m)
    assets.localize(plugins.LocateControl(position="topleft", strings={"title": "显示我的位置"},
                                          flyTo=True, showPopup=False), "locate", asset_base).add_to(m)
    if minimap:
        tiles = folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", attr="OpenStreetMap")
        assets.localize(plugins.MiniMap(tile_layer=tiles, position="bottomleft", toggle_display=True,
                                        zoom_level_offset=-5), "minimap", asset_base).add_to(m)
