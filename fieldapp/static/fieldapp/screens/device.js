/* This device: what the server knows of it, whether alerts reach it, its lock, and signing it out. */

import { Offline, all } from "../api.js";
import { html, useEffect, useState } from "../html.js";
import * as push from "../push.js";
import * as session from "../session.js";
import * as store from "../store.js";
import { Page, Problem, count, useChanges, useSession, when } from "../ui.js";

const PUSH_TEXT = {
  checking: "Checking…",
  on: "On: callouts arrive on this phone as notifications.",
  ask: "Callouts can arrive on this phone as notifications.",
  blocked: "Notifications for Muster are blocked in this browser's settings: allow them there to get callouts "
    + "here. Until then you get them by text and call.",
  unsupported: "This browser cannot receive alerts while Muster is closed. On an iPhone, add Muster to the Home "
    + "Screen (Share, then Add to Home Screen) and open it from there.",
  off: "Alerts by push are not set up on this Muster server: you get callouts by text and call.",
  failed: "Alerts by push could not be turned on here, so you get callouts by text and call.",
};

function allow() {
  push.allow(session.state.config.vapid_public_key);
}

/* Shown above the callouts while alerts do not reach this phone: why, and the button to turn them on. */
export function PushBanner() {
  useChanges(push);
  const { status, detail } = push.push;
  if (status === "on" || status === "checking") return null; // nothing to do, or nothing known yet
  return html`<div class="banner" role="status">
    <p>${PUSH_TEXT[status]}${status === "failed" && detail ? ` (${detail})` : ""}</p>
    ${status === "ask" && html`<button type="button" class="primary" onClick=${allow}>Turn on callout alerts</button>`}
  </div>`;
}

function useThisDevice() {
  const [device, setDevice] = useState(null);
  useEffect(() => {
    (async () => {
      const saved = await store.get("device");
      setDevice(saved);
      try {
        const current = (await all("auth/devices/")).find((entry) => entry.current || entry.id === saved.id);
        if (current) setDevice(current);
      } catch (error) {
        if (!(error instanceof Offline)) throw error;
      }
    })();
  }, []);
  return device;
}

function useStorageKept() {
  const [kept, setKept] = useState(null);
  useEffect(() => { navigator.storage?.persisted?.().then(setKept); }, []);
  return kept;
}

function SignOut() {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState("");
  async function signOut() {
    try {
      await session.signOut();
    } catch (problem) {
      setError(problem instanceof Offline ? "No connection: signing out needs signal." : problem.message);
    }
  }
  if (!asking) return html`<button type="button" class="danger" onClick=${() => setAsking(true)}>Sign out this
    phone</button>`;
  return html`<div class="confirm" role="group" aria-labelledby="sign-out-question">
    <p id="sign-out-question">Sign this phone out of Muster and remove everything Muster keeps on it?</p>
    <${Problem} error=${error} />
    <div class="row">
      <button type="button" class="danger" onClick=${signOut}>Sign out</button>
      <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
    </div>
  </div>`;
}

export function Device() {
  const { config } = useSession();
  const device = useThisDevice();
  const kept = useStorageKept();
  useChanges(push);
  return html`<${Page} title="This device" tab="device">
    ${device && html`<dl class="facts">
      <dt>Name</dt><dd>${device.name}</dd>
      <dt>Enrolled</dt><dd>${when(device.created_at)}</dd>
      ${device.last_used_at && html`<dt>Last used</dt><dd>${when(device.last_used_at)}</dd>`}
    </dl>`}
    <section aria-labelledby="alerts-heading">
      <h2 id="alerts-heading">Callout alerts</h2>
      <p>${PUSH_TEXT[push.push.status]}</p>
      ${push.push.status === "ask" && html`<button type="button" class="primary" onClick=${allow}>Turn on callout
        alerts</button>`}
    </section>
    <section aria-labelledby="lock-heading">
      <h2 id="lock-heading">Lock</h2>
      <p>Muster locks after ${count(config.lock_after_minutes, "minute")} without use. ${config.pin_attempts} wrong
        PINs in a row wipe it from this phone.</p>
      ${kept !== null && html`<p>${kept ? "This browser keeps Muster's saved data until you sign out."
        : "This browser may clear Muster's saved data when space runs low; unsent answers would be lost."}</p>`}
      <button type="button" onClick=${session.lock}>Lock now</button>
    </section>
    <section aria-labelledby="sign-out-heading">
      <h2 id="sign-out-heading">Sign out</h2>
      <${SignOut} />
    </section>
  <//>`;
}
