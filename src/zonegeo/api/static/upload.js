/* The upload page: drag and drop into each row (several files, the loose parts of a Shapefile), sending with
   a progress bar and "正在核验…", no double submit, and the small Leaflet maps of findings. Without this
   script the page works as a plain form (multi-file inputs). No network beyond the app itself. */
(function () {
  "use strict";

  // Names come from uploaded files: text, never HTML (Leaflet writes a string tooltip with innerHTML).
  function textNode(value) {
    var span = document.createElement("span");
    span.textContent = String(value);
    return span;
  }
  var chosen = {}; // role -> [File]: what each row holds, kept when a refused upload's page replaces this one

  function rows() { return document.querySelectorAll("fieldset.upload-row"); }

  function showList(row) {
    var role = row.getAttribute("data-role");
    var list = row.querySelector(".file-list");
    if (!list) return;
    list.textContent = "";
    (chosen[role] || []).forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f.name + "（" + Math.max(1, Math.round(f.size / 1024)) + " KB）";
      list.appendChild(li);
    });
    var clear = row.querySelector("button.clear-files");
    if (!clear) { // a row's files are cleared with this button (a dropped file cannot be unchosen otherwise)
      clear = document.createElement("button");
      clear.type = "button";
      clear.className = "clear-files";
      clear.textContent = "清除本行文件";
      clear.addEventListener("click", function () { setFiles(row, []); });
      list.insertAdjacentElement("afterend", clear);
    }
    clear.hidden = !(chosen[role] || []).length;
  }

  function setFiles(row, files) {
    var role = row.getAttribute("data-role");
    var input = row.querySelector("input[type=file]");
    chosen[role] = files;
    try {
      var dt = new DataTransfer();
      files.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
    } catch (e) { /* an old browser: the files stay in `chosen` and are sent from there */ }
    showList(row);
  }

  function bindRow(row) {
    var input = row.querySelector("input[type=file]");
    input.addEventListener("change", function () { setFiles(row, Array.prototype.slice.call(input.files)); });
    ["dragenter", "dragover"].forEach(function (type) {
      row.addEventListener(type, function (ev) {
        ev.preventDefault();
        row.classList.add("dragging");
      });
    });
    row.addEventListener("dragleave", function () { row.classList.remove("dragging"); });
    row.addEventListener("drop", function (ev) {
      ev.preventDefault();
      row.classList.remove("dragging");
      var dropped = Array.prototype.slice.call((ev.dataTransfer && ev.dataTransfer.files) || []);
      if (!dropped.length) return;
      // dropped files join those already chosen in the row (a .shp first, its .dbf and .shx next)
      var role = row.getAttribute("data-role");
      var names = {};
      var merged = (chosen[role] || []).concat(dropped).filter(function (f) {
        if (names[f.name]) return false;
        names[f.name] = true;
        return true;
      });
      setFiles(row, merged);
    });
    var role = row.getAttribute("data-role");
    if (chosen[role] && chosen[role].length) setFiles(row, chosen[role]);
  }

  function drawMaps() {
    if (!window.L) return;
    document.querySelectorAll(".small-map").forEach(function (el) {
      if (el._drawn) return;
      el._drawn = true;
      var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
      var layers = [];
      var outline = el.getAttribute("data-outline");
      if (outline) {
        layers.push(L.geoJSON(JSON.parse(outline), {
          style: function (f) {
            var role = f.properties && f.properties.role;
            if (role === "current") return { color: "#666", weight: 2, dashArray: "6 4", fillOpacity: 0 };
            return { color: role === "core" ? "#1565c0" : "#8c1c13", weight: 2, fillOpacity: 0.08 };
          },
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, { radius: 5, color: "#8c1c13", fillOpacity: 0.8 });
          },
          onEachFeature: function (f, layer) {
            if (f.properties && f.properties.name) layer.bindTooltip(textNode(f.properties.name));
          }
        }));
      }
      var point = el.getAttribute("data-point");
      if (point) {
        var p = JSON.parse(point);
        var marker = L.circleMarker([p[1], p[0]], { radius: 8, color: "#c62828", weight: 3, fillColor: "#ff5252",
                                                      fillOpacity: 0.9 });
        marker.bindTooltip("问题位置");
        layers.push(L.featureGroup([marker]));
      }
      var bounds = null;
      layers.forEach(function (l) {
        var b = l.getBounds();
        if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      });
      // the view first (a layer added to a map without one cannot be drawn), then the layers
      if (bounds) map.fitBounds(bounds.pad(0.2), { maxZoom: 18, animate: false });
      else map.setView([32.06, 118.79], 8);
      layers.forEach(function (l) { l.addTo(map); });
      map.zoomControl.getContainer().querySelectorAll("a").forEach(function (a) {
        a.title = a.classList.contains("leaflet-control-zoom-in") ? "放大" : "缩小";
        a.setAttribute("aria-label", a.title);
      });
      el.setAttribute("data-ready", "true");
    });
  }

  function bindChoices() {
    document.querySelectorAll("button.choose-crs").forEach(function (b) {
      b.addEventListener("click", function () {
        var select = document.getElementById("crs-" + b.getAttribute("data-role"));
        if (!select) return;
        select.value = b.getAttribute("data-value");
        select.removeAttribute("aria-invalid");
        select.focus();
        var row = document.getElementById("row-" + b.getAttribute("data-role"));
        if (row) row.scrollIntoView({ block: "center" });
      });
    });
  }

  function replacePage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (!main) return false;
    document.querySelector("main").replaceWith(document.adoptNode(main));
    if (doc.title) document.title = doc.title;
    init();
    var findings = document.getElementById("findings");
    if (findings) findings.scrollIntoView();
    return true;
  }

  function bindForm(form) {
    var button = form.querySelector("#submit");
    var status = form.querySelector("#upload-status");
    var bar = form.querySelector("#upload-progress");
    var label = form.querySelector("#upload-progress-label");
    var busy = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) return;
      busy = true;
      button.disabled = true;
      button.textContent = "正在上传…";
      status.hidden = false;
      bar.value = 0;
      bar.max = 100;
      label.textContent = "正在上传…";
      var data = new FormData(form);
      rows().forEach(function (row) { // the files of each row, whether chosen or dropped
        var role = row.getAttribute("data-role");
        var name = "file_" + role;
        data.delete(name);
        (chosen[role] || []).forEach(function (f) { data.append(name, f, f.name); });
      });
      var xhr = new XMLHttpRequest();
      var target = new URL(form.getAttribute("action") || location.pathname, location.href).href;
      xhr.open("POST", target);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
          label.textContent = "正在上传… " + Math.round(100 * e.loaded / e.total) + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value"); // indeterminate while the server checks
        label.textContent = "正在核验…";
        button.textContent = "正在核验…";
      });
      function fail(message) {
        busy = false;
        button.disabled = false;
        button.textContent = "上传并核验";
        label.textContent = message;
        bar.value = 0;
      }
      xhr.addEventListener("load", function () {
        var type = xhr.getResponseHeader("content-type") || "";
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL && xhr.responseURL !== target) {
          location.assign(xhr.responseURL); // the redirect after a stored upload (Post/Redirect/Get)
        } else if (type.indexOf("text/html") >= 0 && replacePage(xhr.responseText)) {
          // a refused upload: its page replaces this one, the files stay chosen
        } else {
          fail("上传失败（" + xhr.status + "），请稍后重试");
        }
      });
      xhr.addEventListener("error", function () { fail("网络中断，上传未完成，请重试"); });
      xhr.send(data);
    });
  }

  function init() {
    rows().forEach(bindRow);
    var form = document.getElementById("upload-form");
    if (form) bindForm(form);
    bindChoices();
    drawMaps();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
