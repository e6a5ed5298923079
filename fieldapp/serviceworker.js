/* Muster's service worker (served as /app/sw.js, scope /app/). The line above this one, added by the server,
   names the shell's files and their version (fieldapp/shell.py). */
"use strict";

const CACHE = `muster-shell-${SHELL.version}`;

self.addEventListener("install", (event) => {
  // cache: "reload" skips the HTTP cache, so a new version never stores an old file under its name.
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.files.map((url) => new Request(url, { cache: "reload" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith("muster-shell-") && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});
