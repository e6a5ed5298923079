/* A 409: the system holds this report with other content than the phone's (a submission whose answer was lost, then
   changed before it went again), or someone amended it after the version the officer amended. The screen shows
   what differs, field by field, and the officer decides: their version goes in as an amendment with a reason, or
   it is dropped and the system's stands. Nothing is overwritten unseen either way. */

import { html, useMemo, useState } from "../html.js";
import * as reports from "../reports.js";
import { go } from "../router.js";
import { describe } from "../schema_form.js";
import { Problem, when } from "../ui.js";

/* [{title, theirs, mine}] for every field whose value differs, in the form's order, and the area. */
export function differences(schema, server, mine) {
  const theirs = new Map(describe(schema, server.data).map((row) => [row.path, row]));
  const ours = new Map(describe(schema, mine.data).map((row) => [row.path, row]));
  const paths = [...theirs.keys(), ...[...ours.keys()].filter((path) => !theirs.has(path))];
  const rows = paths.filter((path) => theirs.get(path)?.text !== ours.get(path)?.text).map((path) => ({
    title: (theirs.get(path) || ours.get(path)).title,
    theirs: theirs.get(path)?.text ?? "",
    mine: ours.get(path)?.text ?? "",
  }));
  if (mine.area && mine.area !== server.area?.code) {
    rows.push({ title: "Area", theirs: server.area?.code || "", mine: mine.area });
  }
  return rows;
}

function Differences({ rows }) {
  if (!rows.length) return html`<p>The fields are the same; only where or when it was taken differs.</p>`;
  return html`<table class="differences">
    <caption>What differs</caption>
    <thead>
      <tr><th scope="col">Field</th><th scope="col">On the system</th><th scope="col">On this phone</th></tr>
    </thead>
    <tbody>${rows.map((row) => html`<tr key=${row.title}>
      <th scope="row">${row.title}</th><td>${row.theirs || "(empty)"}</td><td>${row.mine || "(empty)"}</td>
    </tr>`)}</tbody>
  </table>`;
}

function NotOurs({ entry }) {
  return html`<p class="problem" role="alert">The system has another report under this report's number. Send yours
      as a new report: nothing of the other one is shown or changed.</p>
    <button type="button" class="primary wide" onClick=${async () => go(`reports/${(await reports.fileAsNew(entry.id))
      .id}`)}>Send it as a new report</button>`;
}

export function Conflict({ entry }) {
  const { kind, server, mine } = entry.conflict;
  const schema = useMemo(() => reports.schemaOf(entry), [entry.type.slug, entry.type.version]);
  const [choice, setChoice] = useState(null);
  const [reason, setReason] = useState(mine.reason || "");
  const [error, setError] = useState("");
  if (!server) return html`<${NotOurs} entry=${entry} />`;

  async function keep(event) {
    event.preventDefault();
    if (!reason.trim()) return setError("Say why your version replaces the one on the system.");
    await reports.keepMine(entry.id, reason.trim());
    return go(`reports/${entry.id}`);
  }

  return html`<div class="conflict">
    <p class="problem" role="alert">${kind === "submit"
      ? `This report reached the system at ${when(server.received_at)}, but what this phone holds now differs from it.`
      : `Someone amended this report (version ${server.version}) after the version you amended.`}</p>
    <${Differences} rows=${differences(schema, server, mine)} />
    ${choice === null && html`<div class="stack">
      <button type="button" class="primary" id="keep-mine" onClick=${() => setChoice("keep")}>Keep mine: send it as an
        amendment</button>
      <button type="button" class="danger" id="discard-mine" onClick=${() => setChoice("discard")}>Discard mine: keep
        the version on the system</button>
    </div>`}
    ${choice === "keep" && html`<form class="stack" onSubmit=${keep} novalidate>
      <label for="reason">Reason for the amendment <span class="required">(required)</span></label>
      <textarea id="reason" rows="2" maxlength="500" value=${reason} aria-required="true"
        onInput=${(event) => { setReason(event.target.value); setError(""); }} />
      <${Problem} error=${error} />
      <button type="submit" class="primary" id="send-mine">Send my version as version ${server.version + 1}</button>
      <button type="button" onClick=${() => setChoice(null)}>Back</button>
    </form>`}
    ${choice === "discard" && html`<div class="confirm" role="group" aria-labelledby="discard-question">
      <p id="discard-question">Drop what this phone holds and keep version ${server.version} as it is on the system?</p>
      <div class="row">
        <button type="button" class="danger" id="confirm-discard"
          onClick=${() => reports.discardMine(entry.id)}>Discard mine</button>
        <button type="button" onClick=${() => setChoice(null)}>Back</button>
      </div>
    </div>`}
  </div>`;
}
