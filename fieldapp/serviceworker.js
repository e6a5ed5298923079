/* Muster's service worker (served as /app/sw.js, scope /app/). The line above this one, added by the server,
   names the shell's files and their version (fieldapp/shell.py).

   It keeps the shell so every screen opens without signal, and turns pushes into notifications. It never caches an
   API answer and never sees the PIN's key: what the app knows about people stays sealed in IndexedDB. A
   notification shows only what the push carried, which the server limits to what a locked phone may show. */
"use strict";

const CACHE = `muster-shell-${SHELL.version}`;
const SCOPE = new URL(self.registration.scope).pathname;
const ICON = SHELL.files.find((url) => url.endsWith("/icon-192.png"));
const BADGE = SHELL.files.find((url) => url.endsWith("/badge-96.png"));
const ANSWER_ACTIONS = [{ action: "accept", title: "Accept" }, { action: "decline", title: "Decline" }];

self.addEventListener("install", (event) => {
  // cache: "no-cache" asks the server whether each file changed (the names do not change with a version): a new
  // version never stores an old file under its name, and what the page has just loaded comes back as a bodiless 304.
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.files.map((url) => new Request(url, { cache: "no-cache" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith("muster-shell-") && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

/* The shell's files from the cache (the app loads all its modules at start, so a new version never mixes with an
   old one mid-session); every other request, the API above all, goes to the network untouched. */
self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SCOPE) {
    event.respondWith(cachedOr(SCOPE, request));
  } else if (SHELL.files.includes(url.pathname)) {
    event.respondWith(cachedOr(url.pathname, request));
  }
});

async function cachedOr(path, request) {
  return (await caches.match(path, { cacheName: CACHE })) || fetch(request);
}

/* What each kind of push (CONTRACT11.md point 4) adds to its notification. A callout stays until it is dealt with
   and can be answered from the notification where the platform shows actions; an update to it replaces it. */
const KINDS = {
  callout: (payload) => ({ tag: `callout-${payload.callout}`, renotify: true, requireInteraction: true,
    vibrate: [400, 200, 400, 200, 400], actions: payload.answer ? ANSWER_ACTIONS : [] }),
  "callout-update": (payload) => ({ tag: `callout-${payload.callout}`, renotify: true, requireInteraction: true,
    vibrate: [400, 200, 400] }),
  circulation: () => ({}),
  notice: () => ({}),
};

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    // Not ours or garbled: still a notification, or iOS withdraws the subscription.
  }
  event.waitUntil(notify(payload));
});

function notify(payload) {
  const extra = (KINDS[payload.kind] || KINDS.notice)(payload);
  return self.registration.showNotification(payload.title || "Muster", {
    body: payload.body || "Open Muster for details.",
    icon: ICON,
    badge: BADGE,
    lang: "en-GB",
    data: { url: payload.url || SCOPE, title: payload.title || "Muster", callout: payload.callout ?? null,
      answer: payload.answer ?? null },
    ...extra,
  });
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(clicked(event.notification.data || {}, event.action));
});

/* Accept or Decline on the notification answer through the push's own signed token (no PIN needed, nothing read
   from the app's sealed data); a plain tap opens the app at the notification's screen. */
function clicked(data, action) {
  if ((action === "accept" || action === "decline") && data.answer) return answerFromNotification(data, action);
  return openApp(data.url || SCOPE);
}

async function answerFromNotification(data, response) {
  let body;
  let failed = false;
  try {
    const reply = await fetch(data.answer.url, {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      // Accept from a notification has no ETA: the app asks for it when opened.
      body: JSON.stringify({ token: data.answer.token, response, eta_minutes: null }),
    });
    if (reply.ok) {
      body = response === "accept" ? "Accepted. Open Muster to give your ETA." : "Declined.";
    } else {
      const problem = await reply.json().catch(() => ({}));
      body = `Not sent: ${problem.error?.message || problem.detail || `the server answered ${reply.status}.`}`;
      failed = true;
    }
  } catch {
    body = "Not sent: no connection. Open Muster to answer; it sends your answer when the phone is back online.";
    failed = true;
  }
  return self.registration.showNotification(data.title, {
    body, icon: ICON, badge: BADGE, lang: "en-GB", tag: `callout-${data.callout}`, requireInteraction: failed,
    data: { url: data.url, title: data.title, callout: data.callout, answer: null },
  });
}

/* An open app window is focused and told where to go (a reload would lock it); otherwise a new one opens there. */
async function openApp(url) {
  const target = new URL(url, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).pathname.startsWith(SCOPE));
  if (!open) return self.clients.openWindow(target);
  open.postMessage({ type: "open", url: target });
  // Told where to go first: a browser that refuses to bring the window forward still leaves it at the callout.
  return open.focus().catch(() => undefined);
}

/* Background Sync (Chromium): the phone is back online while field reports wait on it (reports.js registers the tag
   when one is queued). The worker cannot send them: they are sealed with the PIN's key, which it never holds. An
   open app is told to send them now; with none open, a notification asks the officer to open Muster (it says
   nothing about the reports themselves). */
self.addEventListener("sync", (event) => {
  if (event.tag === "muster-reports") event.waitUntil(reportsWaiting());
});

async function reportsWaiting() {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.filter((client) => new URL(client.url).pathname.startsWith(SCOPE));
  if (open.length) return open.forEach((client) => client.postMessage({ type: "flush" }));
  return self.registration.showNotification("Muster", {
    body: "Back online: open Muster and unlock it to send the reports waiting on this phone.", icon: ICON,
    badge: BADGE, lang: "en-GB", tag: "reports-waiting", data: { url: `${SCOPE}#/reports`, title: "Muster" },
  }).catch(() => {}); // notifications not allowed: the reports go when the app is next opened
}
