/* 实地考察 on a phone: findings are kept in IndexedDB (each with an id made here) and sent when the network allows;
   the server stores each id once, so a retry never duplicates and nothing is lost while offline. */
(function () {
  "use strict";
  var root = document.getElementById("visit");
  if (!root) { return; }
  var CODE = root.dataset.code, USER = root.dataset.user, CSRF = root.dataset.csrf, POST = root.dataset.post;
  var MAX_PHOTO = Number(root.dataset.maxPhoto || 12) * 1048576;
  var STATUS = {present: "在位", absent: "不在位", unverified: "未核实"};
  var dbPromise = null, sending = false, retryMs = 3000, timer = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open("zonegeo-visit", 1);
        req.onupgradeneeded = function () { req.result.createObjectStore("queue", {keyPath: "client_id"}); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function store(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction("queue", mode), out = fn(tx.objectStore("queue"));
        tx.oncomplete = function () { resolve(out && "result" in out ? out.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function all() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      // this zone's findings by this login only: another expert on the same phone never sends them as theirs
      return (items || []).filter(function (i) { return i.code === CODE && i.user === USER; })
        .sort(function (a, b) { return a.observed_at < b.observed_at ? -1 : 1; });
    });
  }
  function put(item) { return store("readwrite", function (s) { return s.put(item); }); }
  function drop(id) { return store("readwrite", function (s) { return s.delete(id); }); }

  function newId() {  // RFC 4122 version 4, also where crypto.randomUUID is missing (plain http)
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) { h.push((b[i] + 256).toString(16).slice(1)); }
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") + "-" +
      h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }
  function localTime() {  // ISO 8601 with the phone's offset
    var d = new Date(), off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-", a = Math.abs(off);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" +
      p(d.getMinutes()) + ":" + p(d.getSeconds()) + sign + p(Math.floor(a / 60)) + ":" + p(a % 60);
  }
  function card(item) { return document.getElementById("target-" + item.target_kind + "-" + item.target_id); }
  function say(text) { document.getElementById("sync-message").textContent = text; }
  function show(item, text, kind) {
    var c = card(item);
    if (!c) { return; }
    var line = c.querySelector(".local");
    line.hidden = false;
    line.className = "state-line local" + (kind ? " " + kind : "");
    line.textContent = text;
  }
  function label(item) { return item.target_kind === "institution" ? STATUS[item.status] : item.observed_use; }

  function refresh() {
    return all().then(function (items) {
      var waiting = items.filter(function (i) { return !i.error; });
      document.getElementById("pending-count").textContent = String(waiting.length);
      items.forEach(function (i) {
        show(i, i.error ? "未能保存：" + label(i) + "（" + i.error + "）" : "本机记录：" + label(i) + "（待发送）",
             i.error ? "refused" : "");
      });
      return waiting.length;
    });
  }
  function online() {
    var el = document.getElementById("net-state"), on = navigator.onLine;
    el.textContent = on ? "在线" : "离线（记录保存在本机）";
    el.className = on ? "online" : "offline";
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(send, retryMs);
    retryMs = Math.min(retryMs * 2, 60000);
  }

  function post(item) {
    var body = new FormData();
    ["client_id", "target_kind", "target_id", "status", "observed_use", "note", "observed_at"].forEach(function (k) {
      body.append(k, item[k] == null ? "" : String(item[k]));
    });
    if (item.photo) { body.append("photo", item.photo, item.photo_name || "photo.jpg"); }
    return fetch(POST, {method: "POST", body: body, credentials: "same-origin",
                        headers: {"X-CSRF-Token": CSRF, "Accept": "application/json"}});
  }

  function send() {
    if (sending) { return Promise.resolve(); }
    if (!navigator.onLine) { online(); later(); return Promise.resolve(); }
    sending = true;
    return all().then(function (items) {
      var queue = items.filter(function (i) { return !i.error; });
      var step = function (n) {
        if (n >= queue.length) { retryMs = 3000; return null; }
        var item = queue[n];
        return post(item).then(function (r) {
          if (r.ok) {
            return drop(item.client_id).then(function () {
              show(item, "已保存：" + label(item) + (r.status === 200 ? "（此前已保存，未重复）" : ""), "sent");
              return step(n + 1);
            });
          }
          return r.json().catch(function () { return {}; }).then(function (e) {
            if (r.status === 401 || (r.status === 403 && e.code === "csrf_failed")) {
              say("登录已失效：请重新登录后打开本页面，待发送的记录保留在本机。");
              return null;  // kept, not refused: sent after the next login
            }
            if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
              item.error = e.message || ("HTTP " + r.status);
              return put(item).then(function () { return step(n + 1); });
            }
            throw new Error("HTTP " + r.status);
          });
        });
      };
      return step(0);
    }).catch(function () {
      say("网络不可用或服务器暂时无法访问，稍后自动重试。");
      later();
    }).then(function () {
      sending = false;
      return refresh();
    }).then(function (left) {
      if (left === 0) { say(""); }
    });
  }

  function record(c) {
    var kind = c.dataset.kind, item = {
      client_id: newId(), code: CODE, user: USER, target_kind: kind, target_id: c.dataset.id, status: "", observed_use: "",
      note: c.querySelector(".f-note").value.trim(), observed_at: localTime(), photo: null, photo_name: "", error: null
    };
    if (kind === "institution") {
      var checked = c.querySelector("input[type=radio]:checked");
      if (!checked) { show(item, "请先选择在位、不在位或未核实", "refused"); return; }
      item.status = checked.value;
    } else {
      item.observed_use = c.querySelector(".f-use").value.trim();
      if (!item.observed_use) { show(item, "请填写建筑的实际用途", "refused"); return; }
    }
    var file = c.querySelector(".f-photo").files[0];
    if (file) {
      if (file.size > MAX_PHOTO) { show(item, "照片超过上限" + (MAX_PHOTO / 1048576) + " MB", "refused"); return; }
      item.photo = file;
      item.photo_name = file.name;
    }
    put(item).then(function () {
      c.querySelector(".f-note").value = "";
      c.querySelector(".f-photo").value = "";
      return refresh();
    }).then(send);
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.classList && t.classList.contains("save")) { record(t.closest(".target")); }
    if (t.id === "sync-now") { retryMs = 3000; send(); }
  });
  window.addEventListener("online", function () { online(); retryMs = 3000; send(); });
  window.addEventListener("offline", online);
  online();
  refresh().then(send);

  if ("serviceWorker" in navigator) {  // the page, its map and this script reload with no network
    navigator.serviceWorker.register("/visit-sw.js", {scope: "/zones/"}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      if (reg.active) {
        reg.active.postMessage({cache: [location.pathname, root.dataset.map, "/static/visit.js"]});
      }
    }).catch(function () { /* no service worker (e.g. plain http): the queue still works */ });
  }
})();
