/* Field reports on the phone: drafts saved as they are typed, their photos, and the outbox that files them.

   Everything is sealed in the store (store.js), under names that say what a record is and never what it holds:
   "report:<id>" for a report (its fields, where and when, its photos' thumbnails, its state), "photo:<report>:<photo>"
   for the bytes of a photo not sent yet, "report-types" for the forms last fetched. A report's id is the UUID the
   server files it under, made here when the report is started, so a submission sent twice is filed once.

   A submitted report waits in the outbox until the server answers: it is sent at once if it can be, then on the
   `online` event, each time the app is unlocked, every 30 seconds while the app is open, and when the service
   worker's Background Sync (Chromium) says the phone is back online. Its photos follow it, one by one. The
   service worker cannot send anything itself: it never holds the PIN's key, so with the app closed it can only
   ask the officer to open it.

   States: draft (being written), queued (waiting for signal), sent (on the system), conflict (the server has this
   report with other content, or someone amended it since: the officer decides), refused (the server said what is
   wrong: the form shows it on the fields). */

import { ApiError, Offline, all, api } from "./api.js";
import { initial } from "./schema_form.js";
import { Schema } from "./schema.js";
import * as session from "./session.js";
import * as store from "./store.js";
import { time } from "./ui.js";

const REPORT = "report:";
const PHOTO = "photo:";
const TYPES = "report-types";
const AREAS = "areas";
const RETRY_MS = 30000;
const KEEP_MS = 7 * 24 * 3600 * 1000; // a report on the system stays on the phone a week (to read and amend it)
const SYNC_TAG = "muster-reports"; // serviceworker.js answers it
const THUMBNAIL_PX = 240;

const listeners = new Set();
const sending = new Set();
let flushing = null;
let writes = Promise.resolve();

function changed() {
  listeners.forEach((listener) => listener());
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isSending(id) {
  return sending.has(id);
}

/* ---- the forms ---------------------------------------------------------------------------------------------- */

/* The report types to file under: fetched when there is signal, else as last fetched. {types, offline}. */
export async function reportTypes() {
  try {
    const types = await all("report-types/");
    await store.put(TYPES, types);
    areas().catch(() => {}); // kept with the forms, for a form opened later without signal
    return { types, offline: false };
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    return { types: (await store.get(TYPES)) || [], offline: true };
  }
}

/* The sectors and beats to pick from when the position is missing or wrong: fetched when there is signal, else as
   last fetched (none yet: the officer types the code). */
export async function areas() {
  try {
    const found = await api("areas/");
    await store.put(AREAS, found);
    return found;
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    return (await store.get(AREAS)) || [];
  }
}

export function schemaOf(entry) {
  return new Schema(entry.type.schema);
}

/* ---- reports on the phone ----------------------------------------------------------------------------------- */

/* Every report on the phone, newest first; those on the system for over a week (nothing left to send) are dropped. */
export async function list() {
  if (!store.isUnlocked()) return [];
  const entries = [];
  for (const name of await store.names(REPORT)) {
    const entry = await store.get(name);
    if (entry && stale(entry)) await discard(entry.id);
    else if (entry) entries.push(entry);
  }
  return entries.sort((one, two) => (two.created_at > one.created_at ? 1 : -1));
}

function stale(entry) {
  const settled = entry.state === "sent" && !entry.amendment
    && entry.photos.every((photo) => photo.sent || photo.refused);
  return settled && Date.now() - new Date(entry.server.received_at).getTime() > KEEP_MS;
}

export function get(id) {
  return store.get(REPORT + id);
}

/* One change to a report at a time, each on the record as it is now: the form saving a draft and the outbox
   recording an answer never overwrite each other. `change` edits the entry it is given (or returns a new one). */
export function update(id, change) {
  const done = writes.then(async () => {
    const entry = await store.get(REPORT + id);
    if (!entry) return undefined;
    const next = change(entry) || entry;
    next.updated_at = new Date().toISOString();
    await store.put(REPORT + id, next);
    return next;
  });
  writes = done.catch(() => {});
  return done.finally(changed);
}

/* A new draft of `type`, with the form's defaults; its position is taken by the form when it opens. */
export async function start(type) {
  const now = new Date().toISOString();
  const entry = { id: crypto.randomUUID(), type, data: initial(new Schema(type.schema)) ?? {}, location: null,
    area: "", captured_at: now, created_at: now, updated_at: now, photos: [], state: "draft", errors: {},
    server: null, amendment: null, amending: null, conflict: null, problem: "" };
  await store.put(REPORT + entry.id, entry);
  changed();
  return entry;
}

export async function discard(id) {
  for (const name of await store.names(`${PHOTO}${id}:`)) await store.remove(name);
  await store.remove(REPORT + id);
  changed();
}

/* ---- photos ------------------------------------------------------------------------------------------------- */

async function thumbnail(file) {
  try {
    const image = await createImageBitmap(file);
    const scale = Math.min(1, THUMBNAIL_PX / Math.max(image.width, image.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(image.width * scale);
    canvas.height = Math.round(image.height * scale);
    canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
    image.close();
    return canvas.toDataURL("image/jpeg", 0.7);
  } catch {
    return null; // a format this browser cannot draw (HEIC outside Safari): the photo is kept and sent all the same
  }
}

/* The photo's bytes are sealed as they came from the camera (evidence is not recompressed); a small thumbnail for
   the screens is kept with the report. */
export async function addPhoto(id, file) {
  const photo = { id: crypto.randomUUID(), name: file.name || "photo.jpg", type: file.type || "image/jpeg",
    size: file.size, thumb: await thumbnail(file), sent: false, refused: "" };
  await store.putBytes(`${PHOTO}${id}:${photo.id}`, await file.arrayBuffer());
  await update(id, (entry) => { entry.photos.push(photo); });
  flush();
}

export async function removePhoto(id, photoId) {
  await store.remove(`${PHOTO}${id}:${photoId}`);
  await update(id, (entry) => { entry.photos = entry.photos.filter((photo) => photo.id !== photoId); });
}

/* ---- where ------------------------------------------------------------------------------------------------- */

const LOCATION_PROBLEMS = {
  1: "Location is off for Muster: type the area below, or allow location in the browser's settings.",
  2: "The phone cannot tell where it is just now: try again, or type the area below.",
  3: "No position yet: try again in the open, or type the area below.",
};

/* The phone's position now: {latitude, longitude, accuracy_m, at}; throws an Error saying what to do instead. */
export function locate() {
  if (!("geolocation" in navigator)) {
    return Promise.reject(new Error("This browser cannot give a position: type the area below."));
  }
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition((position) => resolve({
      latitude: Number(position.coords.latitude.toFixed(6)), longitude: Number(position.coords.longitude.toFixed(6)),
      accuracy_m: Math.min(100000, Math.round(position.coords.accuracy)), at: new Date().toISOString(),
    }), (problem) => reject(new Error(LOCATION_PROBLEMS[problem.code] || LOCATION_PROBLEMS[2])),
    { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
  });
}

/* ---- submitting, amending, conflicts ------------------------------------------------------------------------ */

/* Into the outbox; it is sent in the background (the officer is not kept waiting on a slow connection). */
export async function submit(id) {
  await update(id, (entry) => {
    Object.assign(entry, { state: "queued", queued_at: new Date().toISOString(), errors: {}, problem: "" });
  });
  queued();
}

function queued() {
  askForSync();
  flush();
}

/* Back to a draft, before it was sent (a report already sending cannot be taken back). */
export function reopen(id) {
  return update(id, (entry) => {
    if (entry.state === "queued" && !sending.has(id)) entry.state = "draft";
  });
}

/* An amendment being written: saved as typed, like a draft. */
export function saveAmending(id, amending) {
  return update(id, (entry) => { entry.amending = amending; });
}

export async function amend(id) {
  await update(id, (entry) => {
    const { data, reason, area } = entry.amending;
    entry.amendment = { base_version: entry.server.version, data, reason, area, queued_at: new Date().toISOString(),
      errors: {} };
    entry.amending = null;
  });
  queued();
}

/* Resolving a 409: the officer's version goes to the system as an amendment of the one there, with their reason. */
export async function keepMine(id, reason) {
  await update(id, (entry) => {
    const { server, mine } = entry.conflict;
    Object.assign(entry, { state: "sent", conflict: null, server: { ...entry.server, ...server },
      amendment: { base_version: server.version, data: mine.data, reason, area: mine.area,
        queued_at: new Date().toISOString(), errors: {} } });
  });
  queued();
}

/* Resolving a 409: the version on the system stands, and the phone's is dropped. */
export function discardMine(id) {
  return update(id, (entry) => {
    const { server } = entry.conflict;
    Object.assign(entry, { state: "sent", conflict: null, server: { ...entry.server, ...server },
      data: server.data, area: server.area?.code || "" });
  });
}

/* A 409 for an id the server gives another officer (never in practice: ids are random): filed under a new id. */
export async function fileAsNew(id) {
  const entry = await get(id);
  const fresh = { ...entry, id: crypto.randomUUID(), state: "queued", conflict: null,
    queued_at: new Date().toISOString() };
  for (const photo of entry.photos) {
    const bytes = await store.getBytes(`${PHOTO}${id}:${photo.id}`);
    if (bytes) await store.putBytes(`${PHOTO}${fresh.id}:${photo.id}`, bytes);
  }
  await store.put(REPORT + fresh.id, fresh);
  await discard(id);
  flush();
  return fresh;
}

/* ---- the outbox --------------------------------------------------------------------------------------------- */

export function flush() {
  flushing ??= sendAll().finally(() => { flushing = null; });
  return flushing;
}

async function sendAll() {
  if (!store.isUnlocked()) return;
  const entries = (await list()).reverse(); // oldest first
  try {
    for (const entry of entries) await sendOne(entry);
    await refresh(false);
  } catch (error) {
    if (!(error instanceof Offline)) throw error; // no signal: the rest would fail the same way
  }
}

async function sendOne(entry) {
  if (entry.state === "queued") {
    entry = await attempt(entry, () => sendReport(entry));
  } else if (entry.state === "sent" && entry.amendment && !Object.keys(entry.amendment.errors).length) {
    entry = await attempt(entry, () => sendAmendment(entry));
  }
  // The photos go once the report is on the system (a 409 means it is there too).
  if (entry && (entry.state === "sent" || (entry.state === "conflict" && entry.conflict.server))) {
    for (const photo of entry.photos.filter((p) => !p.sent && !p.refused)) {
      await attempt(entry, () => sendPhoto(entry, photo));
    }
  }
}

/* Runs one send, marked as sending; a server error that may pass (500, 429) is noted and tried again later. */
async function attempt(entry, send) {
  sending.add(entry.id);
  changed();
  try {
    return (await send()) ?? (await get(entry.id));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;
    return update(entry.id, (now) => { now.problem = `The server answered ${error.status}: ${error.message} `
      + "It is tried again shortly."; });
  } finally {
    sending.delete(entry.id);
    changed();
  }
}

function filing(entry) {
  const { latitude, longitude, accuracy_m } = entry.location || {};
  return { id: entry.id, report_type: entry.type.slug, data: entry.data, area: entry.area || null,
    location: entry.location ? { latitude, longitude, accuracy_m } : null, captured_at: entry.captured_at,
    submit: true };
}

function onSystem(report) {
  return { version: report.version, received_at: report.received_at, submitted_at: report.submitted_at,
    circulated_at: report.circulated_at ?? null, area: report.area, data: report.data,
    attachments: report.attachments.length };
}

async function sendReport(entry) {
  try {
    const report = await api("reports/", { method: "POST", body: filing(entry) });
    return update(entry.id, (now) => {
      now.server = onSystem(report);
      // Changed back to a draft while it was on its way: the next submission shows the difference (a 409).
      if (now.state === "queued" && now.queued_at === entry.queued_at) {
        Object.assign(now, { state: "sent", problem: "" });
      }
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409) return conflict(entry, "submit");
    if (error.status === 400 || error.status === 403 || error.status === 404) return refused(entry, error);
    throw error;
  }
}

async function sendAmendment(entry) {
  const { base_version, data, reason, area } = entry.amendment;
  try {
    const report = await api(`reports/${entry.id}/amend/`, { method: "POST",
      body: { base_version, data, reason, area: area || null } });
    return update(entry.id, (now) => {
      Object.assign(now, { server: onSystem(report), data: report.data, area: report.area?.code || "",
        amendment: null, problem: "" });
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409) return conflict(entry, "amend");
    if ([400, 403, 404].includes(error.status)) {
      return update(entry.id, (now) => { now.amendment.errors = fieldErrors(error); });
    }
    throw error;
  }
}

async function sendPhoto(entry, photo) {
  const name = `${PHOTO}${entry.id}:${photo.id}`;
  const bytes = await store.getBytes(name);
  const form = new FormData();
  form.append("file", new Blob([bytes], { type: photo.type }), photo.name);
  try {
    await api(`reports/${entry.id}/attachments/`, { method: "POST", body: form });
  } catch (error) {
    if (!(error instanceof ApiError) || ![400, 403, 404, 413, 415].includes(error.status)) throw error;
    return update(entry.id, (now) => { mark(now, photo.id, { refused: error.message }); });
  }
  // 201, or 200 (the server had it: a send whose answer was lost): the bytes leave the phone.
  await store.remove(name);
  return update(entry.id, (now) => { mark(now, photo.id, { sent: true }); });
}

function mark(entry, photoId, changes) {
  entry.photos = entry.photos.map((photo) => (photo.id === photoId ? { ...photo, ...changes } : photo));
}

/* The server's 400, by field: the report's own fields by their path in the form ("age", "" for the whole report),
   the others (area, location) under their names with an "@". */
function fieldErrors(error) {
  const found = {};
  for (const [field, messages] of Object.entries(error.fields)) {
    const path = field === "data" ? "" : field.startsWith("data.") ? field.slice(5) : `@${field}`;
    found[path] = messages;
  }
  if (!Object.keys(found).length) found["@"] = [error.message];
  return found;
}

async function refused(entry, error) {
  const current = (await reportTypes().catch(() => ({ types: [] }))).types.find((t) => t.slug === entry.type.slug);
  return update(entry.id, (now) => {
    // The server files under the type's current version: the form is drawn from that one from now on.
    const newer = current && current.version !== now.type.version;
    Object.assign(now, { state: "refused", errors: fieldErrors(error), problem: "", type: newer ? current : now.type,
      form_updated: Boolean(newer) });
  });
}

async function conflict(entry, kind) {
  let server = null;
  try {
    const report = await api(`reports/${entry.id}/`);
    server = { version: report.version, data: report.data, area: report.area, received_at: report.received_at,
      submitted_at: report.submitted_at, circulated_at: report.circulated_at ?? null,
      attachments: report.attachments.length };
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error; // 404: another officer's id
  }
  return update(entry.id, (now) => {
    const mine = kind === "amend" ? { data: now.amendment.data, area: now.amendment.area, reason: now.amendment.reason }
      : { data: now.data, area: now.area, reason: "" };
    Object.assign(now, { state: "conflict", conflict: { kind, server, mine }, amendment: null, problem: "" });
  });
}

/* What the system did with my reports since they were sent: circulated, amended by a supervisor, their area. Every
   read of a report is audited, so this is one read of the list, and made by the outbox only while a report sent in
   the last quarter of an hour waits to be circulated; `always` (the reports screen opening) reads it anyway. */
const WATCH_MS = 15 * 60 * 1000;

export async function refresh(always = true) {
  if (!store.isUnlocked()) return;
  const watched = (await list()).filter((entry) => entry.state === "sent" && !entry.amendment && (always
    || (!entry.server.circulated_at && Date.now() - new Date(entry.server.received_at).getTime() < WATCH_MS)));
  if (!watched.length) return;
  let page;
  try {
    page = await api("reports/?state=submitted&page_size=100");
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) return;
    if (error instanceof Offline && always) return;
    throw error;
  }
  for (const report of page.results) {
    const entry = watched.find((candidate) => candidate.id === report.id);
    if (!entry) continue;
    // Amended by someone else: the phone must hold that version's fields before anyone amends from it.
    const latest = report.version !== entry.server.version ? await api(`reports/${report.id}/`) : null;
    await update(report.id, (now) => {
      if (now.state !== "sent" || now.amendment) return;
      now.server = { ...now.server, version: report.version, circulated_at: report.circulated_at, area: report.area };
      if (latest) Object.assign(now, { server: onSystem(latest), data: latest.data, area: latest.area?.code || "" });
    });
  }
}

/* Background Sync: the service worker is woken when the phone is back online (Chromium; elsewhere the events
   above do the work). */
async function askForSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register(SYNC_TAG);
  } catch {
    // Not offered, or refused (some browsers ask for a permission first): the online event and the timer remain.
  }
}

export function startOutbox() {
  addEventListener("online", flush);
  setInterval(flush, RETRY_MS);
  session.onUnlocked(flush);
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "flush") flush();
  });
}

/* ---- what to say about a report ----------------------------------------------------------------------------- */

/* {key, text}: the report's state in a few words, as the outbox and the report's screen show it. */
export function status(entry) {
  const waitingPhotos = entry.photos.filter((photo) => !photo.sent && !photo.refused).length;
  const photos = waitingPhotos ? ` · ${waitingPhotos} photo${waitingPhotos === 1 ? "" : "s"} to send` : "";
  if (entry.state === "draft") return { key: "draft", text: "Draft: only on this phone" };
  if (entry.state === "refused") return { key: "refused", text: "Not accepted: open it to see why" };
  if (entry.state === "conflict") return { key: "conflict", text: "Differs from the copy on the system: open it" };
  if (entry.state === "queued") {
    return sending.has(entry.id) ? { key: "sending", text: "Sending…" }
      : { key: "waiting", text: "Waiting for signal: saved on this phone" };
  }
  if (entry.amendment) {
    const text = sending.has(entry.id) ? "Sending the amendment…" : Object.keys(entry.amendment.errors).length
      ? "Amendment not accepted: open it to see why" : "Amendment waiting for signal";
    return { key: "amending", text };
  }
  if (entry.server.circulated_at) {
    return { key: "circulated", text: `Circulated at ${time(entry.server.circulated_at)}${photos}` };
  }
  return { key: "on-system", text: `On the system since ${time(entry.server.received_at)}${photos}` };
}

/* The summary line of a report: its type's summary fields, as the server makes it. */
export function summary(entry) {
  const fields = entry.type.summary_fields || [];
  return fields.map((name) => entry.data[name]).filter((value) => value !== undefined && value !== null
    && value !== "" && !(Array.isArray(value) && !value.length)).map(String).join(", ");
}
