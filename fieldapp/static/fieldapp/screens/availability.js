/* My availability: "unavailable until …" with its kind, my on-call shifts for the next 14 days, and my calendar
   feed's address for the phone's calendar. */

import { ApiError, Offline, all, api } from "../api.js";
import { html, useEffect, useState } from "../html.js";
import * as store from "../store.js";
import { Page, Problem, Saved, when } from "../ui.js";

const KINDS = [["leave", "Leave"], ["sick", "Sick"], ["court", "Court"], ["training", "Training"],
  ["other", "Other"]];
const KIND_NAMES = Object.fromEntries(KINDS);

async function fetchAvailability() {
  const [unavailable, shifts, me] = await Promise.all([
    all("unavailability/?upcoming=true"), all("shifts/"), api("me/")]);
  return { unavailable, shifts, feed: me.calendar_feed_url ?? null, at: new Date().toISOString() };
}

async function loadAvailability(setData) {
  try {
    const data = await fetchAvailability();
    await store.put("availability", data);
    setData(data);
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    setData({ ...((await store.get("availability")) || { unavailable: [], shifts: [], feed: null }),
      offline: true });
  }
}

/* datetime-local's format, in the phone's time zone: tomorrow at 08:00 as the first guess. */
function tomorrowMorning() {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  date.setHours(8, 0, 0, 0);
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T08:00`;
}

function problemText(error) {
  if (error instanceof Offline) return "No connection: try again when the phone has signal.";
  if (error instanceof ApiError) return [error.message, ...Object.values(error.fields).flat()].join(" ");
  throw error;
}

function AddUnavailable({ reload }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const form = event.target.elements;
    setBusy(true);
    try {
      await api("unavailability/", { method: "POST", body: {
        kind: form.kind.value, starts_at: new Date().toISOString(),
        ends_at: new Date(form.until.value).toISOString(), note: form.note.value.trim() } });
      setError("");
      setOpen(false);
      await reload();
    } catch (problem) {
      setError(problemText(problem));
    }
    setBusy(false);
  }

  if (!open) return html`<button type="button" class="primary wide" onClick=${() => setOpen(true)}>I am
    unavailable…</button>`;
  return html`<form class="stack" onSubmit=${submit} aria-labelledby="add-heading">
    <h3 id="add-heading">I am unavailable from now</h3>
    <label for="until">Until</label>
    <input id="until" name="until" type="datetime-local" required value=${tomorrowMorning()} />
    <label for="kind">Why</label>
    <select id="kind" name="kind">${KINDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
    </select>
    <label for="note">Note (optional)</label>
    <input id="note" name="note" maxlength="200" />
    <${Problem} error=${error} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>Add</button>
      <button type="button" onClick=${() => setOpen(false)}>Cancel</button>
    </div>
  </form>`;
}

function Unavailable({ items, reload, offline }) {
  const [error, setError] = useState("");
  async function remove(item) {
    try {
      await api(`unavailability/${item.id}/`, { method: "DELETE" });
      setError("");
      await reload();
    } catch (problem) {
      setError(problemText(problem));
    }
  }
  const now = Date.now();
  return html`<section aria-labelledby="unavailable-heading">
    <h2 id="unavailable-heading">Unavailable</h2>
    ${items.length === 0 ? html`<p class="muted">Nothing booked: you are on your lists as rostered.</p>`
      : html`<ul class="rows">${items.map((item) => html`<li>
          <span><strong>${KIND_NAMES[item.kind]}</strong>
            ${new Date(item.starts_at) > now ? ` from ${when(item.starts_at)}` : ""} until ${when(item.ends_at)}
            ${item.note && html`<span class="meta">${item.note}</span>`}</span>
          <button type="button" class="small" disabled=${offline} onClick=${() => remove(item)}
            aria-label=${`Remove ${KIND_NAMES[item.kind]} until ${when(item.ends_at)}`}>Remove</button>
        </li>`)}</ul>`}
    <${Problem} error=${error} />
    ${!offline && html`<${AddUnavailable} reload=${reload} />`}
  </section>`;
}

function Shifts({ shifts }) {
  return html`<section aria-labelledby="shifts-heading">
    <h2 id="shifts-heading">On call, next 14 days</h2>
    ${shifts.length === 0 ? html`<p class="muted">No on-call shifts.</p>` : html`<ul class="rows">
      ${shifts.map((shift) => html`<li><span><strong>${new Date(shift.start) <= Date.now() ? "Now"
        : when(shift.start)} – ${when(shift.end)}</strong>
        <span class="meta">${shift.unit.name} · ${shift.tier.name}</span></span></li>`)}</ul>`}
  </section>`;
}

function Feed({ url }) {
  const [copied, setCopied] = useState(false);
  if (!url) return null;
  const copy = () => navigator.clipboard.writeText(url).then(() => setCopied(true), () => setCopied(false));
  return html`<section aria-labelledby="feed-heading">
    <h2 id="feed-heading">My calendar feed</h2>
    <p>Add this address to your phone's calendar as a subscription: your shifts and leave appear there and stay
      up to date.</p>
    <label for="feed">Feed address</label>
    <input id="feed" readonly value=${url} />
    <div class="row">
      <button type="button" onClick=${copy}>${copied ? "Copied" : "Copy address"}</button>
      <a class="button" href=${url.replace(/^https?:/, "webcal:")}>Subscribe</a>
    </div>
  </section>`;
}

export function Availability() {
  const [data, setData] = useState(null);
  const reload = () => loadAvailability(setData);
  useEffect(() => { reload(); }, []);
  return html`<${Page} title="My availability" tab="availability">
    <${Saved} ...${data || {}} />
    ${data === null ? html`<p class="muted">Loading…</p>` : html`
      <${Unavailable} items=${data.unavailable} reload=${reload} offline=${data.offline} />
      <${Shifts} shifts=${data.shifts} />
      <${Feed} url=${data.feed} />`}
  <//>`;
}
