/* One report: its form while it is a draft (saved on the phone as it is typed), its state once sent, an amendment
   with its reason, and the choice a 409 asks for (report_conflict.js). */

import { html, useEffect, useMemo, useRef, useState } from "../html.js";
import * as reports from "../reports.js";
import { go } from "../router.js";
import { SchemaForm, shownPaths } from "../schema_form.js";
import { Page, Problem, time, useChanges, when } from "../ui.js";
import { Conflict } from "./report_conflict.js";
import { ErrorSummary, Fields, Photos, Where, position } from "./report_parts.js";

const SAVE_AFTER_MS = 300; // a pause in typing; every keystroke would be a write of the whole sealed record

/* The report as the store has it, read again when the outbox changes it. */
function useEntry(id) {
  const [entry, setEntry] = useState(undefined);
  useEffect(() => {
    const load = () => reports.get(id).then((found) => setEntry(found ?? null));
    load();
    return reports.subscribe(load);
  }, [id]);
  return entry;
}

/* Saves `value` a moment after it last changed, at once when the page is hidden or left (the browser may be killed
   next), and says when it was last saved. */
function useAutosave(value, save) {
  const [savedAt, setSavedAt] = useState(null);
  const pending = useRef(null);
  const first = useRef(true);
  const now = () => {
    if (!pending.current) return Promise.resolve();
    clearTimeout(pending.current.timer);
    const { value: latest } = pending.current;
    pending.current = null;
    return save(latest).then(() => setSavedAt(new Date().toISOString()));
  };
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (pending.current) clearTimeout(pending.current.timer);
    pending.current = { value, timer: setTimeout(now, SAVE_AFTER_MS) };
  }, [value]);
  useEffect(() => {
    const hidden = () => { if (document.visibilityState === "hidden") now(); };
    document.addEventListener("visibilitychange", hidden);
    addEventListener("pagehide", now);
    return () => {
      document.removeEventListener("visibilitychange", hidden);
      removeEventListener("pagehide", now);
      now();
    };
  }, []);
  return { savedAt, saveNow: now };
}

function valueAt(data, path) {
  return path.split(".").filter(Boolean).reduce((value, part) => (value == null ? undefined : value[part]), data);
}

/* The server's errors stay on a field until the officer changes that field. */
function withoutChanged(errors, before, after) {
  return Object.fromEntries(Object.entries(errors).filter(([path]) => path.startsWith("@")
    || JSON.stringify(valueAt(before, path)) === JSON.stringify(valueAt(after, path))));
}

function Saved({ savedAt }) {
  return html`<p class="saved meta" role="status" id="saved">${savedAt ? `Saved on this phone at ${time(savedAt)}`
    : "Saved on this phone as you type"}</p>`;
}

function DraftForm({ entry }) {
  const schema = useMemo(() => reports.schemaOf(entry), [entry.type.slug, entry.type.version]);
  const [draft, setDraft] = useState({ data: entry.data, area: entry.area });
  const [serverErrors, setServerErrors] = useState(entry.errors || {});
  const [attempt, setAttempt] = useState(0);
  const [asking, setAsking] = useState(false);
  const { savedAt, saveNow } = useAutosave(draft, (value) => reports.update(entry.id, (now) => {
    now.data = value.data;
    now.area = value.area;
  }));
  const errors = { ...serverErrors, ...(attempt ? schema.errors(draft.data) : {}) };

  const change = (changes) => {
    setServerErrors((current) => withoutChanged(current, draft.data, changes.data ?? draft.data));
    if ("area" in changes) setServerErrors(({ "@area": _, ...rest }) => rest);
    setDraft((current) => ({ ...current, ...changes }));
  };

  async function send(event) {
    event.preventDefault();
    setAttempt((count) => count + 1);
    if (Object.keys(schema.errors(draft.data)).length || Object.keys(serverErrors).length) return;
    await saveNow();
    await reports.update(entry.id, (now) => { Object.assign(now, { data: draft.data, area: draft.area }); });
    await reports.submit(entry.id);
    go("reports");
  }

  async function remove() {
    await reports.discard(entry.id);
    go("reports");
  }

  return html`<form class="report-form" onSubmit=${send} novalidate>
    ${entry.form_updated && html`<p class="notice">This form was changed on the system since the report was started:
      check the fields marked.</p>`}
    <${ErrorSummary} errors=${errors} shown=${shownPaths(schema, draft.data)} attempt=${attempt} />
    <${Saved} savedAt=${savedAt || (entry.updated_at !== entry.created_at ? entry.updated_at : null)} />
    <${Where} entry=${entry} area=${draft.area} setArea=${(area) => change({ area })} errors=${errors} />
    <section aria-labelledby="fields-heading">
      <h2 id="fields-heading">${entry.type.name}</h2>
      <${SchemaForm} schema=${schema} value=${draft.data} errors=${errors} onChange=${(data) => change({ data })} />
    </section>
    <${Photos} entry=${entry} canAdd=${true} />
    <button type="submit" class="primary wide" id="send-report">Send report</button>
    ${asking ? html`<div class="confirm" role="group" aria-labelledby="delete-question">
        <p id="delete-question">Delete this draft and its photos from the phone?</p>
        <div class="row">
          <button type="button" class="danger" onClick=${remove}>Delete draft</button>
          <button type="button" onClick=${() => setAsking(false)}>Keep it</button>
        </div>
      </div>`
      : html`<button type="button" class="link wide" onClick=${() => setAsking(true)}>Delete draft…</button>`}
  </form>`;
}

function AmendForm({ entry }) {
  const schema = useMemo(() => reports.schemaOf(entry), [entry.type.slug, entry.type.version]);
  const refused = entry.amendment && Object.keys(entry.amendment.errors).length ? entry.amendment : null;
  const start = entry.amending || refused || { data: entry.data, reason: "", area: "" };
  const [amending, setAmending] = useState({ data: start.data, reason: start.reason, area: start.area });
  const [serverErrors, setServerErrors] = useState(refused?.errors || {});
  const [attempt, setAttempt] = useState(0);
  useAutosave(amending, (value) => reports.saveAmending(entry.id, value));
  const reasonErrors = attempt && !amending.reason.trim() ? { "@reason": ["Say why the report is amended."] } : {};
  const errors = { ...serverErrors, ...(attempt ? schema.errors(amending.data) : {}), ...reasonErrors };

  const change = (changes) => {
    setServerErrors((current) => withoutChanged(current, amending.data, changes.data ?? amending.data));
    for (const name of ["area", "reason"]) {
      if (name in changes) setServerErrors(({ [`@${name}`]: _, ...rest }) => rest);
    }
    setAmending((current) => ({ ...current, ...changes }));
  };

  async function send(event) {
    event.preventDefault();
    setAttempt((count) => count + 1);
    if (Object.keys(schema.errors(amending.data)).length || !amending.reason.trim()
      || Object.keys(serverErrors).length) return;
    await reports.saveAmending(entry.id, amending);
    await reports.amend(entry.id);
    go(`reports/${entry.id}`);
  }

  const reasonError = errors["@reason"] || [];
  const areaError = errors["@area"] || [];
  return html`<form class="report-form" onSubmit=${send} novalidate>
    <p>Version ${entry.server.version} is on the system. Your amendment becomes version ${entry.server.version + 1},
      with your reason; the earlier versions stay readable.</p>
    <${ErrorSummary} errors=${errors} shown=${shownPaths(schema, amending.data)} attempt=${attempt} />
    <div class=${reasonError.length ? "field invalid" : "field"}>
      <label for="reason">Reason for the amendment <span class="required">(required)</span></label>
      ${reasonError.length > 0 && html`<p class="field-error" id="reason-error">${reasonError.join(" ")}</p>`}
      <textarea id="reason" rows="2" maxlength="500" value=${amending.reason} aria-required="true"
        aria-invalid=${reasonError.length ? "true" : undefined}
        aria-describedby=${reasonError.length ? "reason-error" : undefined}
        onInput=${(event) => change({ reason: event.target.value })} />
    </div>
    <section aria-labelledby="fields-heading">
      <h2 id="fields-heading">${entry.type.name}</h2>
      <${SchemaForm} schema=${schema} value=${amending.data} errors=${errors}
        onChange=${(data) => change({ data })} />
    </section>
    <div class=${areaError.length ? "field invalid" : "field"}>
      <label for="area">New area code (only if the area changed)</label>
      ${areaError.length > 0 && html`<p class="field-error" id="area-error">${areaError.join(" ")}</p>`}
      <input id="area" value=${amending.area} autocapitalize="none" spellcheck="false" maxlength="40"
        aria-invalid=${areaError.length ? "true" : undefined}
        aria-describedby=${areaError.length ? "area-error" : undefined}
        onInput=${(event) => change({ area: event.target.value.trim() })} />
    </div>
    <button type="submit" class="primary wide" id="send-amendment">Send amendment</button>
    <a class="button wide" href=${`#/reports/${entry.id}`}>Cancel</a>
  </form>`;
}

function Filed({ entry }) {
  useChanges(reports);
  const schema = useMemo(() => reports.schemaOf(entry), [entry.type.slug, entry.type.version]);
  const { key, text } = reports.status(entry);
  const sending = reports.isSending(entry.id);
  const { server } = entry;
  const [asking, setAsking] = useState(false);
  const forget = async () => {
    await reports.discard(entry.id);
    go("reports");
  };
  return html`
    <p class=${`report-status state-${key}`} role="status" id="report-status">${text}</p>
    ${entry.problem && html`<p class="waiting">${entry.problem}</p>`}
    <dl class="facts">
      ${server && html`<dt>On the system</dt><dd>${when(server.received_at)} · version ${server.version}</dd>`}
      ${server?.circulated_at && html`<dt>Circulated</dt><dd>${when(server.circulated_at)}</dd>`}
      <dt>Area</dt><dd id="report-area">${server?.area ? `${server.area.name} (${server.area.code})`
        : entry.area || (server ? "None found" : "Found from the position once sent")}</dd>
      ${entry.location && html`<dt>Position</dt><dd>${position(entry.location)}</dd>`}
    </dl>
    ${entry.state === "queued" && !sending && html`<button type="button" class="wide" id="change-report"
      onClick=${() => reports.reopen(entry.id)}>Change it before it is sent</button>`}
    ${entry.state === "sent" && !entry.amendment && html`<a class="button primary wide" id="amend-report"
      href=${`#/reports/${entry.id}/amend`}>Amend</a>`}
    ${entry.amendment && Object.keys(entry.amendment.errors).length > 0 && html`<a class="button primary wide"
      href=${`#/reports/${entry.id}/amend`}>Correct the amendment</a>`}
    <section aria-labelledby="fields-heading">
      <h2 id="fields-heading">${entry.type.name}</h2>
      <${Fields} schema=${schema} data=${entry.amendment?.data || entry.data} />
    </section>
    <${Photos} entry=${entry} canAdd=${entry.state === "sent"} />
    ${entry.state === "sent" && !entry.amendment && entry.photos.every((photo) => photo.sent || photo.refused)
      && (asking ? html`<div class="confirm" role="group" aria-labelledby="forget-question">
          <p id="forget-question">Remove it from this phone? It stays on the system.</p>
          <div class="row"><button type="button" class="danger" onClick=${forget}>Remove</button>
            <button type="button" onClick=${() => setAsking(false)}>Keep it</button></div></div>`
        : html`<button type="button" class="link wide" onClick=${() => setAsking(true)}>Remove from this phone…
          </button>`)}`;
}

export function ReportScreen({ id, mode }) {
  const entry = useEntry(id);
  const title = entry ? `${mode === "amend" ? "Amend: " : ""}${entry.type.name}` : "Report";
  let content = null;
  if (entry === null) content = html`<${Problem} error="This report is not on this phone." />`;
  else if (entry && ["draft", "refused"].includes(entry.state)) content = html`<${DraftForm} entry=${entry} />`;
  else if (entry?.state === "conflict") content = html`<${Conflict} entry=${entry} />`;
  else if (entry?.state === "sent" && mode === "amend") content = html`<${AmendForm} entry=${entry} />`;
  else if (entry) content = html`<${Filed} entry=${entry} />`;
  return html`<${Page} title=${title} tab="reports" back=${mode === "amend" ? `#/reports/${id}` : "#/reports"}>
    ${content}
  <//>`;
}
