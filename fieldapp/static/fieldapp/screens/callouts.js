/* My open callouts: those I was alerted for, newest first, from the server or, without signal, as last saved. */

import { Offline, all } from "../api.js";
import { html, useState } from "../html.js";
import * as outbox from "../outbox.js";
import * as store from "../store.js";
import { Page, Saved, time, useChanges, usePoll } from "../ui.js";
import { PushBanner } from "./device.js";

const ANSWERS = { none: "Not answered", accept: "Accepted", decline: "Declined" };

export function answerText(answer) {
  if (!answer) return "";
  const eta = answer.response === "accept" && answer.eta_minutes !== null ? ` · ETA ${answer.eta_minutes} min` : "";
  return ANSWERS[answer.response] + eta;
}

async function loadCallouts(setData) {
  try {
    const callouts = (await all("callouts/?open=true")).filter((callout) => callout.my_answer);
    const saved = { callouts, at: new Date().toISOString() };
    await store.put("callouts", saved);
    setData(saved);
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    setData({ ...((await store.get("callouts")) || { callouts: [] }), offline: true });
  }
}

export function CalloutList() {
  const [data, setData] = useState(null);
  useChanges(outbox);
  usePoll(() => loadCallouts(setData), 15000, []);

  return html`<${Page} title="Callouts" tab="callouts">
    <${PushBanner} />
    <${Saved} ...${data || {}} />
    ${data === null ? html`<p class="muted">Loading…</p>`
      : data.callouts.length === 0 ? html`<p class="empty">No open callouts for you.</p>`
        : html`<ul class="cards" aria-label="Open callouts">${data.callouts.map((callout) => html`
          <li><a class="card" href=${`#/callouts/${callout.id}`}>
            <strong>${callout.exercise ? "EXERCISE: " : ""}${callout.unit.name}</strong>
            <span class="message">${callout.message}</span>
            <span class="meta">Sent ${time(callout.launched_at)} · ${answerText(callout.my_answer)}</span>
          </a></li>`)}</ul>`}
  <//>`;
}
