/* Field reports: start one of a type, and the outbox: every report on this phone with its state (draft, waiting for
   signal, sending, on the system since, circulated), newest first. */

import { html, useEffect, useState } from "../html.js";
import * as reports from "../reports.js";
import { go } from "../router.js";
import { Page, Problem, useChanges, when } from "../ui.js";

/* Every report on the phone, read again whenever the outbox changes one. */
export function useReports() {
  const [entries, setEntries] = useState(null);
  useEffect(() => {
    const load = () => reports.list().then(setEntries);
    load();
    return reports.subscribe(load);
  }, []);
  return entries;
}

function NewReport() {
  const [types, setTypes] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => { reports.reportTypes().then(setTypes, (problem) => setError(problem.message)); }, []);

  async function begin(type) {
    const entry = await reports.start(type);
    go(`reports/${entry.id}`);
  }

  if (error) return html`<${Problem} error=${error} />`;
  if (types === null) return html`<p class="muted">Loading the forms…</p>`;
  if (!types.types.length) {
    return html`<p class="notice">${types.offline ? "No connection, and the report forms were never loaded on this "
      + "phone: open this screen once with signal." : "There are no report forms to fill in yet."}</p>`;
  }
  return html`<ul class="type-list" aria-label="Report forms">${types.types.map((type) => html`<li key=${type.slug}>
    <button type="button" class="primary wide" onClick=${() => begin(type)}>${type.name}</button></li>`)}</ul>`;
}

function Outbox({ entries }) {
  useChanges(reports); // sending starts and stops
  if (entries === null) return html`<p class="muted">Loading…</p>`;
  if (!entries.length) return html`<p class="muted">No reports on this phone.</p>`;
  return html`<ul class="cards" aria-label="My reports">${entries.map((entry) => {
    const { key, text } = reports.status(entry);
    const started = entry.server?.received_at || entry.created_at;
    return html`<li key=${entry.id}><a class=${`card report-card state-${key}`} href=${`#/reports/${entry.id}`}
        data-report=${entry.id}>
      <strong>${entry.type.name}</strong>
      <span class="message">${reports.summary(entry) || "Nothing filled in yet"}</span>
      <span class="report-state" data-state=${key}>${text}</span>
      <span class="meta">${when(started)}${entry.photos.length ? ` · ${entry.photos.length} photo${
        entry.photos.length === 1 ? "" : "s"}` : ""}</span>
    </a></li>`;
  })}</ul>`;
}

export function Reports() {
  const entries = useReports();
  useEffect(() => { reports.flush().then(() => reports.refresh()); }, []);
  return html`<${Page} title="Field reports" tab="reports">
    <a class="button wide" href="#/circulations">Circulated to me</a>
    <section aria-labelledby="new-heading">
      <h2 id="new-heading">New report</h2>
      <${NewReport} />
    </section>
    <section aria-labelledby="outbox-heading">
      <h2 id="outbox-heading">My reports</h2>
      <${Outbox} entries=${entries} />
    </section>
  <//>`;
}
