/* The site-visit page's service worker: keeps the visit page, its map and its script, so that the page reloads
   with no network (network first, the kept copy when the network fails). Findings are never sent from here. */
"use strict";
var CACHE = "zonegeo-visit-v1";
var KEEP = /^\/zones\/[^/]+\/visit(\/map)?$|^\/static\/visit\.js$/;

function keep(url) {
  var u = new URL(url, self.location.href);
  return u.origin === self.location.origin && KEEP.test(u.pathname);
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (event) {
  var urls = ((event.data && event.data.cache) || []).filter(keep);
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (r.ok && !r.redirected) { return cache.put(url, r); }
        return null;
      }).catch(function () { return null; });
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET" || !keep(req.url)) { return; }
  event.respondWith(fetch(req).then(function (r) {
    if (r.ok && !r.redirected) {
      var copy = r.clone();
      caches.open(CACHE).then(function (cache) { cache.put(req, copy); });
    }
    return r;
  }).catch(function () {
    return caches.match(req, {ignoreSearch: true}).then(function (hit) { return hit || Response.error(); });
  }));
});
