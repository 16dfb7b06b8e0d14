/* zonegeo map helpers: popups, styles and the GCJ-02 shift for Amap tiles. Plain ES5, no dependencies. */
var zg = (function () {
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
    return r;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
    return r;
  }
  /* WGS84 (= CGCS2000 here) -> GCJ-02, the published forward formula. */
  function toGcj(lng, lat) {
    if (outOfChina(lng, lat)) { return [lng, lat]; }
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sm = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sm) * PI);
    dLng = (dLng * 180) / (A / sm * Math.cos(rad) * PI);
    return [lng + dLng, lat + dLat];
  }
  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  /* fields: [[key, label, suffix]]; empty values are left out. */
  function popup(props, fields) {
    var rows = [];
    for (var i = 0; i < fields.length; i++) {
      var v = props[fields[i][0]];
      if (v === undefined || v === null || v === "") { continue; }
      rows.push("<tr><th>" + esc(fields[i][1]) + "</th><td>" + esc(v) + (fields[i][2] || "") + "</td></tr>");
    }
    var link = props.href ? '<p><a href="' + esc(props.href) + '">查看集聚区地图</a></p>' : "";
    return '<table class="zg-popup">' + rows.join("") + "</table>" + link;
  }
  var overlays = [];
  var gcj = false;
  function coords(c) {
    if (gcj) { var g = toGcj(c[0], c[1]); return L.latLng(g[1], g[0]); }
    return L.latLng(c[1], c[0]);
  }
  /* entry: {make: function(coordsToLatLng) -> layer, holder: layer group it lives in} */
  function register(holder, make) {
    var entry = {holder: holder, make: make, layer: null};
    entry.layer = make(coords);
    holder.addLayer(entry.layer);
    overlays.push(entry);
    return entry.layer;
  }
  function setGcj(on) {
    if (on === gcj) { return; }
    gcj = on;
    for (var i = 0; i < overlays.length; i++) {
      var e = overlays[i];
      e.holder.removeLayer(e.layer);
      e.layer = e.make(coords);
      e.holder.addLayer(e.layer);
    }
  }
  function watchBaseLayers(map, gcjLayerNames) {
    map.on("baselayerchange", function (ev) { setGcj(gcjLayerNames.indexOf(ev.name) >= 0); });
  }
  var floorClasses = [[3, "#fee5d9"], [6, "#fcae91"], [10, "#fb6a4a"], [20, "#de2d26"], [1e9, "#a50f15"]];
  function floorColour(n) {
    for (var i = 0; i < floorClasses.length; i++) { if (n <= floorClasses[i][0]) { return floorClasses[i][1]; } }
    return floorClasses[floorClasses.length - 1][1];
  }
  var PHONE = "(max-width: 600px)";
  function isPhone() { return !!(window.matchMedia && window.matchMedia(PHONE).matches); }
  /* A panel (<details>) becomes a Leaflet control in a corner: Leaflet stacks the controls of a corner, so a panel
     never lies over a control or over the measure tool's results. */
  function dock(map, id, position) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var Panel = L.Control.extend({onAdd: function () {
      L.DomEvent.disableClickPropagation(el);
      L.DomEvent.disableScrollPropagation(el);
      return el;
    }});
    new Panel({position: position}).addTo(map);
    return el;
  }
  /* Page set-up after every control is on the map: panels docked (on a phone folded: the title into a button,
     the legend to its heading), keyboard focus on the controls before the shapes, panels opened for print. */
  function chrome(map, opts) {
    var title = dock(map, opts.title || "zg-title", "topright");
    var legend = dock(map, opts.legend || "zg-legend", "bottomright");
    var container = map.getContainer(), controls = map._controlContainer;
    if (controls && controls.parentNode === container) { container.insertBefore(controls, container.firstChild); }
    if (isPhone()) {
      /* No minimap on a phone: it would cover a third of the map (the CSS hides it too, should the page load wide). */
      (map._zgControls || []).forEach(function (c) { if (c._miniMap && c._map) { map.removeControl(c); } });
      if (title) { title.open = false; }
      if (legend) { legend.open = false; }
    }
    /* The measure tool's results are never covered: on a phone, the title panel and the measure panel take turns
       (opening one folds the other; while a measurement is going on the title stays folded). */
    var measure = null;
    (map._zgControls || []).forEach(function (c) { if (c.$interaction && c._collapse) { measure = c; } });
    if (measure && measure._setCaptureMarkerIcon) {
      /* While measuring, an invisible marker over the map takes the clicks; Leaflet makes it a button: name it. */
      var setCapture = measure._setCaptureMarkerIcon;
      measure._setCaptureMarkerIcon = function () {
        setCapture.apply(this, arguments);
        var el = this._captureMarker && this._captureMarker.getElement();
        if (el) { el.setAttribute("aria-label", "测量：在地图上点击以添加测量点"); }
      };
    }
    if (title && measure) {
      var fold = function () { if (isPhone()) { title.open = false; } };
      ["pointerdown", "focusin", "mouseenter"].forEach(function (name) {
        measure.getContainer().addEventListener(name, fold, true);
      });
      map.on("measurestart", fold);
      title.addEventListener("toggle", function () {
        if (!title.open || !isPhone()) { return; }
        if (measure._locked) { title.open = false; } else { measure._collapse(); }
      });
    }
    window.addEventListener("beforeprint", function () {
      if (title) { title.open = true; }
      if (legend) { legend.open = true; }
    });
  }
  return {toGcj: toGcj, popup: popup, esc: esc, floorColour: floorColour, register: register, setGcj: setGcj, watchBaseLayers: watchBaseLayers,
          isGcj: function () { return gcj; }, overlays: overlays, chrome: chrome, isPhone: isPhone};
})();

/* Leaflet's and the plugins' own words, in Chinese; the scale bar in metres only. Runs before any map is made. */
if (window.L) {
  (function () {  /* every control a map carries, for zg.chrome */
    var addTo = L.Control.prototype.addTo;
    L.Control.prototype.addTo = function (map) {
      (map._zgControls = map._zgControls || []).push(this);
      return addTo.apply(this, arguments);
    };
  })();
  L.Control.Zoom.prototype.options.zoomInTitle = "放大";
  L.Control.Zoom.prototype.options.zoomOutTitle = "缩小";
  L.Control.Scale.prototype.options.imperial = false;
  L.Control.Scale.prototype.options.metric = true;
  L.Control.Attribution.prototype.options.prefix =
    '<a href="https://leafletjs.com" title="Leaflet 开源地图库">Leaflet</a>';
  (function () {
    var layersLayout = L.Control.Layers.prototype._initLayout;
    L.Control.Layers.prototype._initLayout = function () {
      layersLayout.apply(this, arguments);
      if (this._layersLink) {
        this._layersLink.title = "图层";
        this._layersLink.setAttribute("aria-label", "图层");
      }
      if (this._section) { this._section.setAttribute("aria-label", "图层"); }
    };
    /* Leaflet makes every marker a focusable button: one with neither text nor a name gets a generic one. */
    var initIcon = L.Marker.prototype._initIcon;
    L.Marker.prototype._initIcon = function () {
      initIcon.apply(this, arguments);
      var el = this._icon;
      if (el && el.getAttribute("role") === "button" && !el.getAttribute("aria-label") && !el.title
          && !el.textContent.trim()) {
        el.setAttribute("aria-label", "地图标记");
      }
    };
    var popupLayout = L.Popup.prototype._initLayout;
    L.Popup.prototype._initLayout = function () {
      popupLayout.apply(this, arguments);
      if (this._closeButton) {
        this._closeButton.title = "关闭";
        this._closeButton.setAttribute("aria-label", "关闭");
      }
    };
  })();
}
