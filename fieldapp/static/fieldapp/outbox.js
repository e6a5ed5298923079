/* Answers to callouts given without signal: each is sealed in the store (one per callout, the latest wins) and sent
   when the phone is back: at once if it can be, on the `online` event, each time the app is unlocked and every
   30 seconds while it is open. Sending the same answer twice is harmless on the server, so a send whose reply was
   lost is simply sent again. (Background Sync cannot help here: the service worker never holds the PIN's key.) */

import { ApiError, Offline, api, whenBackOnline } from "./api.js";
import * as store from "./store.js";

const PREFIX = "outbox:answer:";
const RETRY_MS = 30000;
const listeners = new Set();
const sending = new Set();
let flushing = null;

function changed() {
  listeners.forEach((listener) => listener());
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isSending(callout) {
  return sending.has(callout);
}

/* The answer to `callout` still on the phone: {response, eta_minutes, note, queued_at, refused?}, or undefined. */
export function queued(callout) {
  return store.isUnlocked() ? store.get(PREFIX + callout) : Promise.resolve(undefined);
}

export async function answer(callout, { response, eta_minutes = null, note = "" }) {
  await store.put(PREFIX + callout, { callout, response, eta_minutes, note, queued_at: new Date().toISOString() });
  changed();
  return flush();
}

export async function dismiss(callout) {
  await store.remove(PREFIX + callout);
  changed();
}

export function flush() {
  flushing ??= sendAll().finally(() => { flushing = null; });
  return flushing;
}

async function sendAll() {
  if (!store.isUnlocked()) return;
  for (const name of await store.names(PREFIX)) {
    const item = await store.get(name);
    if (!item || item.refused) continue;
    if (!(await send(name, item))) return; // offline: the rest would fail the same way
  }
}

/* False when there was no connection. */
async function send(name, item) {
  sending.add(item.callout);
  changed();
  try {
    const callout = await api(`callouts/${item.callout}/respond/`, { method: "POST",
      body: { response: item.response, eta_minutes: item.response === "accept" ? item.eta_minutes : null,
        note: item.note } });
    await store.put(`callout:${item.callout}`, callout);
    const now = await store.get(name);
    if (now && now.queued_at === item.queued_at) await store.remove(name); // not a newer answer given meanwhile
    return true;
  } catch (error) {
    if (error instanceof Offline) return false;
    if (!(error instanceof ApiError)) throw error;
    // The server said no (the callout closed, I may no longer answer): kept, with why, until dismissed.
    await store.put(name, { ...item, refused: error.message });
    return true;
  } finally {
    sending.delete(item.callout);
    changed();
  }
}

export function start() {
  whenBackOnline(flush);
  setInterval(flush, RETRY_MS);
}
