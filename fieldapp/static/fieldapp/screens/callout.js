/* One callout: what it is, who is coming, and my answer; a big Accept with ETA choices and a Decline. It keeps
   itself current while open, and an answer given without signal waits in the outbox (and says so). */

import { ApiError, Offline, api } from "../api.js";
import { html, useEffect, useState } from "../html.js";
import * as outbox from "../outbox.js";
import * as store from "../store.js";
import { Page, Problem, Saved, time, useChanges, usePoll, when } from "../ui.js";
import { answerText } from "./callouts.js";

const ETAS = [5, 10, 15, 20, 30, 45, 60];
const POLL_MS = 5000;
const STATES = { active: "Active", filled: "Filled", exhausted: "All lists alerted",
  cancelled: "Cancelled", closed: "Closed" };

async function loadCallout(id, setData, setError) {
  try {
    const callout = await api(`callouts/${id}/`);
    await store.put(`callout:${id}`, callout);
    setData({ callout });
    setError("");
  } catch (error) {
    if (error instanceof Offline) {
      const saved = await store.get(`callout:${id}`);
      setData(saved ? { callout: saved, offline: true } : null);
      if (!saved) setError("No connection, and this callout was never opened on this phone.");
    } else if (error instanceof ApiError) {
      setError(error.message);
    } else {
      throw error;
    }
  }
}

function Accepted({ people }) {
  if (!people) return null;
  return html`<section aria-labelledby="accepted-heading">
    <h2 id="accepted-heading">Accepted so far (${people.length})</h2>
    ${people.length === 0 ? html`<p class="muted">Nobody yet.</p>` : html`<ul class="people">
      ${people.map((person) => html`<li>
        <span>${person.name}</span>
        <span class="meta">${person.eta_minutes === null ? "no ETA" : `ETA ${person.eta_minutes} min`} · ${
          time(person.responded_at)}</span>
      </li>`)}</ul>`}
  </section>`;
}

function MyAnswer({ callout, queued }) {
  const sending = outbox.isSending(callout.id);
  let state = null;
  if (queued?.refused) {
    state = html`<p class="problem" role="alert">Not sent: ${queued.refused}
      <button type="button" class="link" onClick=${() => outbox.dismiss(callout.id)}>Dismiss</button></p>`;
  } else if (queued) {
    state = html`<p class="waiting" role="status">${sending ? "Sending your answer…"
      : "Waiting for signal: your answer is saved on this phone and will be sent when it is back online."}</p>`;
  }
  const shown = queued && !queued.refused ? queued : callout.my_answer;
  return html`<section aria-labelledby="my-answer-heading">
    <h2 id="my-answer-heading">My answer</h2>
    <p class="answer" id="my-answer">${answerText(shown)}${callout.my_answer?.responded_at && !queued
      ? html` <span class="meta">at ${time(callout.my_answer.responded_at)}</span>` : ""}</p>
    ${state}
  </section>`;
}

function Answer({ callout }) {
  const [declining, setDeclining] = useState(false);
  if (!callout.is_open) return html`<p class="notice">This callout is ${callout.state}: answers are closed.</p>`;
  const accept = (eta) => outbox.answer(callout.id, { response: "accept", eta_minutes: eta });
  const decline = (event) => {
    event.preventDefault();
    setDeclining(false);
    outbox.answer(callout.id, { response: "decline", note: event.target.elements.reason.value.trim() });
  };
  return html`<section aria-labelledby="accept-heading" class="answer-box">
    <h2 id="accept-heading">Accept: I can be there in</h2>
    <div class="etas">${ETAS.map((eta) => html`
      <button type="button" class="accept" aria-label=${`Accept, there in ${eta} min`}
        onClick=${() => accept(eta)}><span class="eta">${eta}</span> min</button>`)}</div>
    ${declining ? html`<form class="stack" onSubmit=${decline}>
        <label for="reason">Reason (optional)</label>
        <input id="reason" name="reason" maxlength="500" />
        <button type="submit" class="decline">Send decline</button>
      </form>`
      : html`<button type="button" class="decline" onClick=${() => setDeclining(true)}>Decline</button>`}
  </section>`;
}

export function CalloutScreen({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [queued, setQueued] = useState(undefined);
  useChanges(outbox);
  usePoll(() => loadCallout(id, setData, setError), POLL_MS, [id]);
  // The outbox changes when an answer is queued, sent or refused: read this callout's entry again, and the callout.
  useEffect(() => outbox.subscribe(async () => {
    setQueued(await outbox.queued(id));
    const saved = await store.get(`callout:${id}`);
    if (saved) setData((current) => ({ ...current, callout: saved }));
  }), [id]);
  useEffect(() => { outbox.queued(id).then(setQueued); }, [id]);

  const callout = data?.callout;
  return html`<${Page} title=${callout ? `${callout.exercise ? "EXERCISE: " : ""}${callout.unit.name}` : "Callout"}
      back="#/callouts" tab="callouts">
    <${Saved} at=${null} offline=${data?.offline} />
    <${Problem} error=${error} />
    ${callout && html`
      <p class="message big" id="callout-message">${callout.message}</p>
      <dl class="facts">
        <dt>State</dt><dd>${STATES[callout.state]}</dd>
        <dt>Coming</dt><dd>${callout.counts.accepted} of ${callout.need.quorum} needed</dd>
        ${callout.incident_ref && html`<dt>Incident</dt><dd>${callout.incident_ref}</dd>`}
        <dt>Sent</dt><dd>${when(callout.launched_at)}</dd>
      </dl>
      <${MyAnswer} callout=${callout} queued=${queued} />
      <${Answer} callout=${callout} />
      <${Accepted} people=${callout.accepted} />`}
  <//>`;
}
