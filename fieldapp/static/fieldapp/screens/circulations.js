/* Reports circulated to me: the inbox, newest first, each with Acknowledge; and one of them read in full (names,
   descriptions and photos are only ever shown here, inside the unlocked app, never in a notification). */

import { ApiError, Offline, all, api } from "../api.js";
import { html, useEffect, useMemo, useState } from "../html.js";
import * as reports from "../reports.js";
import { Schema } from "../schema.js";
import * as store from "../store.js";
import { Page, Problem, Saved, usePoll, when } from "../ui.js";
import { Fields } from "./report_parts.js";

const POLL_MS = 30000;

async function loadInbox(setData) {
  try {
    const saved = { items: await all("circulations/"), at: new Date().toISOString() };
    await store.put("circulations", saved);
    setData(saved);
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    setData({ ...((await store.get("circulations")) || { items: [] }), offline: true });
  }
}

function words(value) {
  const text = String(value || "").replace(/[-_]+/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function Circulation({ item, acknowledged }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function acknowledge() {
    setBusy(true);
    try {
      acknowledged(await api(`circulations/${item.id}/ack/`, { method: "POST" }));
      setError("");
    } catch (problem) {
      if (!(problem instanceof Offline || problem instanceof ApiError)) throw problem;
      setError(problem instanceof Offline ? "No connection: acknowledge it when the phone has signal."
        : problem.message);
    }
    setBusy(false);
  }
  return html`<li class="card circulation" data-circulation=${item.id}>
    <strong>${item.report_type.name}${item.updated ? " (updated)" : ""}</strong>
    <span class=${`grading grading-${item.grading}`}>${item.grading ? `Grading: ${words(item.grading)}` : "Not graded"}
      ${item.area ? ` · ${item.area.name}` : ""}</span>
    <span class="message">${item.summary}</span>
    <span class="meta">Circulated ${when(item.circulated_at)}${item.reason === "supervisor"
      ? " · to you as supervisor" : ""}</span>
    <div class="row">
      <a class="button" href=${`#/circulations/${item.report}`}>Read it</a>
      ${item.acknowledged_at ? html`<span class="acknowledged">Acknowledged at ${when(item.acknowledged_at)}</span>`
        : html`<button type="button" class="primary" disabled=${busy} onClick=${acknowledge}
          aria-label=${`Acknowledge ${item.report_type.name}: ${item.summary}`}>Acknowledge</button>`}
    </div>
    <${Problem} error=${error} />
  </li>`;
}

export function Circulations() {
  const [data, setData] = useState(null);
  usePoll(() => loadInbox(setData), POLL_MS, []);
  const acknowledged = (updated) => setData((current) => ({ ...current,
    items: current.items.map((item) => (item.id === updated.id ? updated : item)) }));
  const open = data?.items.filter((item) => !item.acknowledged_at).length ?? 0;
  return html`<${Page} title="Circulated to me" tab="reports" back="#/reports">
    <${Saved} ...${data || {}} />
    ${data === null ? html`<p class="muted">Loading…</p>` : data.items.length === 0
      ? html`<p class="empty">Nothing has been circulated to you.</p>` : html`
        <p class="muted" id="to-acknowledge">${open ? `${open} to acknowledge` : "All acknowledged"}</p>
        <ul class="cards" aria-label="Circulated reports">${data.items.map((item) => html`
          <${Circulation} key=${item.id} item=${item} acknowledged=${acknowledged} />`)}</ul>`}
  <//>`;
}

/* A form for reading the report: its type's schema when the phone has that version, else its fields by name. */
async function readingSchema(report) {
  const { types } = await reports.reportTypes().catch(() => ({ types: [] }));
  const type = types.find((entry) => entry.slug === report.report_type && entry.version === report.type_version);
  if (type) return type.schema;
  return { type: "object", properties: Object.fromEntries(Object.keys(report.data).map((name) => [name, {}])) };
}

function asDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function Photo({ attachment, index }) {
  const [source, setSource] = useState(null);
  useEffect(() => {
    const path = attachment.url.replace(/^\/api\/v1\//, "");
    api(path, { blob: true }).then(asDataUrl).then(setSource, () => setSource(""));
  }, [attachment.url]);
  if (source === "") return html`<li class="thumb"><span class="no-thumb">${attachment.filename}</span></li>`;
  return html`<li class="thumb">${source ? html`<img src=${source} alt=${`Photo ${index + 1}`} />`
    : html`<span class="no-thumb">Loading…</span>`}</li>`;
}

export function CirculatedReport({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    (async () => {
      try {
        const report = await api(`reports/${id}/`);
        const saved = { report, schema: await readingSchema(report) };
        await store.put(`circulated:${id}`, saved);
        setData(saved);
      } catch (problem) {
        if (problem instanceof ApiError) return setError(problem.message);
        if (!(problem instanceof Offline)) throw problem;
        const saved = await store.get(`circulated:${id}`);
        if (saved) setData({ ...saved, offline: true });
        else setError("No connection, and this report was never opened on this phone.");
      }
    })();
  }, [id]);
  const schema = useMemo(() => (data ? new Schema(data.schema) : null), [data]);
  const report = data?.report;
  const images = (report?.attachments || []).filter((attachment) => attachment.content_type.startsWith("image/"));
  return html`<${Page} title=${report ? words(report.report_type) : "Report"} tab="reports" back="#/circulations">
    <${Saved} offline=${data?.offline} />
    <${Problem} error=${error} />
    ${report && html`
      <dl class="facts">
        ${report.grading && html`<dt>Grading</dt><dd class=${`grading grading-${report.grading}`}>${
          words(report.grading)}</dd>`}
        <dt>Area</dt><dd>${report.area ? report.area.name : "Not known"}</dd>
        <dt>Filed by</dt><dd>${report.author.name}</dd>
        <dt>On the system</dt><dd>${when(report.received_at)} · version ${report.version}</dd>
      </dl>
      <section aria-labelledby="fields-heading">
        <h2 id="fields-heading">Details</h2>
        <${Fields} schema=${schema} data=${report.data} />
      </section>
      ${images.length > 0 && !data.offline && html`<section aria-labelledby="photos-heading">
        <h2 id="photos-heading">Photos</h2>
        <ul class="thumbs">${images.map((attachment, index) => html`<${Photo} key=${attachment.id}
          attachment=${attachment} index=${index} />`)}</ul>
      </section>`}`}
  <//>`;
}
