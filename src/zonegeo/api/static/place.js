/* Placing institutions on the register draft's page: each row to place or confirm has a small map of the zone's
   四至 and buildings (no base map tiles), the geocoder's point if any, and a click on the map sets the row's
   longitude/latitude inputs (the form is then sent with its button). Without JavaScript the inputs are typed. */
(function () {
  "use strict";

  // Names come from uploaded files: text, never HTML (Leaflet writes a string tooltip with innerHTML).
  function textNode(value) {
    var span = document.createElement("span");
    span.textContent = String(value);
    return span;
  }

  function style(f) {
    var role = f.properties && f.properties.role;
    if (role === "building") return { color: "#555", weight: 1, fillColor: "#9e9e9e", fillOpacity: 0.35 };
    return { color: "#8c1c13", weight: 2, fillOpacity: 0.05 };
  }

  function marker(latlng) {
    return L.circleMarker(latlng, { radius: 8, color: "#0d47a1", weight: 3, fillColor: "#42a5f5", fillOpacity: 0.9 });
  }

  function draw(section, el) {
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    var layout = section.getAttribute("data-layout");
    var shapes = null;
    if (layout && layout !== "null") {
      shapes = L.geoJSON(JSON.parse(layout), {
        style: style,
        onEachFeature: function (f, layer) {
          if (f.properties && f.properties.name) layer.bindTooltip(textNode(f.properties.name));
        }
      });
    }
    var point = el.getAttribute("data-point");
    var bounds = shapes ? shapes.getBounds() : null;
    var here = null;
    if (point) {
      var p = JSON.parse(point);
      here = L.latLng(p[1], p[0]);
      bounds = bounds && bounds.isValid() ? bounds.extend(here) : L.latLngBounds(here, here);
    }
    // the view first (a layer added to a map without one cannot be drawn), then the layers
    if (bounds && bounds.isValid()) map.fitBounds(bounds.pad(0.15), { maxZoom: 18, animate: false });
    else map.setView([32.06, 118.79], 8);
    if (shapes) shapes.addTo(map);
    var dot = here ? marker(here).bindTooltip("当前位置").addTo(map) : null;
    map.zoomControl.getContainer().querySelectorAll("a").forEach(function (a) {
      a.title = a.classList.contains("leaflet-control-zoom-in") ? "放大" : "缩小";
      a.setAttribute("aria-label", a.title);
    });
    var row = el.getAttribute("id").replace("place-map-", "");
    var lon = document.getElementById("lon-" + row);
    var lat = document.getElementById("lat-" + row);
    if (lon && lat) {
      el.style.cursor = "crosshair";
      map.on("click", function (e) {
        lon.value = e.latlng.lng.toFixed(7);
        lat.value = e.latlng.lat.toFixed(7);
        if (dot) dot.setLatLng(e.latlng);
        else dot = marker(e.latlng).bindTooltip("放置的位置").addTo(map);
        el.setAttribute("data-clicked", "true");
        var button = document.getElementById("place-" + row);
        if (button) button.textContent = "保存此位置";
      });
    }
    el.setAttribute("data-ready", "true");
  }

  function start() {
    var section = document.getElementById("placing");
    if (!section || !window.L) return;
    section.querySelectorAll(".place-map").forEach(function (el) { draw(section, el); });
    section.querySelectorAll(".place-hint").forEach(function (p) {
      p.textContent = p.textContent.replace("，或填写经纬度", "（点击后经纬度自动填入），或填写经纬度");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
