/* Who is using the app, and whether it is locked: enrolment, the PIN, the idle lock, the wipe after too many
   wrong PINs, and signing out. Screens read `state` through useSession() (ui.js) and call these functions. */

import { Offline, ApiError, api, useToken, whenBackOnline, whenSignedOut } from "./api.js";
import * as store from "./store.js";

// What the server's app-config said last (public facts), and what holds before it has ever answered.
const DEFAULTS = { lock_after_minutes: 30, pin_attempts: 5, vapid_public_key: "" };
const ACTIVITY = ["pointerdown", "keydown", "touchstart", "wheel", "scroll"];

export const state = {
  phase: "starting", // starting | enrol | pin | locked | open
  notice: "", // said once on the next screen: why the phone was wiped or signed out
  config: DEFAULTS,
  wrongPins: 0,
};
const listeners = new Set();
const unlockedHooks = [];
let enrolment = null; // the token between enrolment and the PIN: in memory only, never stored unsealed
let lastActive = Date.now();
let signOutWaiting = false; // a sign-out by wipe key the server has not had yet (the phone had no signal)
const RETRY_MS = 30000; // a waiting sign-out is also tried this often while the app is open

function change(changes) {
  Object.assign(state, changes);
  listeners.forEach((listener) => listener());
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/* Work to do each time the app is unlocked (push subscription, sending queued answers). */
export function onUnlocked(hook) {
  unlockedHooks.push(hook);
}

export async function start() {
  whenSignedOut(() => forget("This phone was signed out of Muster (by you, an administrator, or because it was "
    + "not used for a long time). Enrol it again to carry on."));
  ACTIVITY.forEach((name) => addEventListener(name, () => { lastActive = Date.now(); },
    { capture: true, passive: true }));
  setInterval(lockIfIdle, 5000);
  document.addEventListener("visibilitychange", lockIfIdle);
  whenBackOnline(retrySignOut);
  setInterval(retrySignOut, RETRY_MS);

  change({ config: { ...DEFAULTS, ...(await store.plain.get("config")) },
    wrongPins: (await store.plain.get("wrong_pins")) || 0 });
  refreshConfig();
  if (await store.plain.get("sign_out")) {
    sendPendingSignOut();
    return change({ phase: "enrol" });
  }
  if (await store.hasPin()) return change({ phase: "locked" });
  // A device enrolled but never given a PIN (the app was closed in between): its token is lost, so it is signed out.
  const device = await store.plain.get("device");
  if (device) await signOutWithWipeKey(device);
  change({ phase: "enrol" });
}

async function refreshConfig() {
  try {
    const config = await api("app-config/", { auth: false });
    await store.plain.set("config", config);
    change({ config: { ...DEFAULTS, ...config } });
  } catch (error) {
    if (!(error instanceof Offline || error instanceof ApiError)) throw error;
  }
}

export async function enrol(fields) {
  const device = await api("auth/devices/", { method: "POST", body: fields, auth: false });
  await store.plain.set("device", { id: device.id, wipe_key: device.wipe_key });
  enrolment = device;
  change({ phase: "pin", notice: "" });
}

export async function choosePin(pin) {
  await store.createPin(pin);
  const { token, ...device } = enrolment;
  delete device.wipe_key;
  await store.put("token", token);
  await store.put("device", device);
  enrolment = null;
  await opened(token);
}

/* True when the PIN was right. Each try is counted before the PIN is checked, so closing the app mid-check never
   gives a free guess; the last allowed wrong PIN wipes the phone. */
export async function unlock(pin) {
  const wrongPins = state.wrongPins + 1;
  await store.plain.set("wrong_pins", wrongPins);
  if (await store.unlock(pin)) {
    await store.plain.set("wrong_pins", 0);
    change({ wrongPins: 0 });
    await opened(await store.get("token"));
    return true;
  }
  if (wrongPins >= state.config.pin_attempts) {
    await wipeAfterWrongPins();
  } else {
    change({ wrongPins });
  }
  return false;
}

async function opened(token) {
  useToken(token);
  lastActive = Date.now();
  change({ phase: "open", notice: "" });
  // After the settings are fresh (the push key may have changed), without holding up the screen.
  refreshConfig().then(() => unlockedHooks.forEach((hook) => hook()));
}

export function lock() {
  store.lock();
  useToken(null);
  change({ phase: "locked" });
}

function lockIfIdle() {
  if (state.phase === "open" && Date.now() - lastActive >= state.config.lock_after_minutes * 60000) lock();
}

/* Signs this device out on the server, then wipes the phone. Needs a connection: offline it throws Offline. */
export async function signOut() {
  const device = await store.get("device");
  await api(`auth/devices/${device.id}/`, { method: "DELETE" });
  await forget("You signed this phone out. Enrol again to use Muster here.");
}

async function forget(notice) {
  useToken(null);
  await store.destroy();
  change({ phase: "enrol", notice, wrongPins: 0 });
}

async function wipeAfterWrongPins() {
  const device = await store.plain.get("device");
  await forget(`${state.config.pin_attempts} wrong PINs: Muster's data on this phone was wiped and the phone `
    + "is signed out. Enrol again to use it.");
  await signOutWithWipeKey(device);
}

/* The device is signed out on the server with its wipe key now, or at the next chance (back online, every 30
   seconds while the app is open, its next start):
   until then the key alone stays on the phone. */
async function signOutWithWipeKey(device) {
  await store.destroy();
  if (!device) return;
  await store.plain.set("sign_out", device);
  await sendPendingSignOut();
}

// Only while one waits: reading the store would make its database again after a wipe.
function retrySignOut() {
  if (signOutWaiting) sendPendingSignOut();
}

async function sendPendingSignOut() {
  const device = await store.plain.get("sign_out");
  signOutWaiting = Boolean(device);
  if (!device) return;
  try {
    await api("auth/devices/wipe/", { method: "POST", auth: false,
      body: { device: device.id, wipe_key: device.wipe_key } });
  } catch (error) {
    if (error instanceof Offline) return; // tried again when the phone is back online
    if (!(error instanceof ApiError && error.status === 404)) return; // throttled or failing: next time
  }
  // 204, or 404: the server no longer knows the device. Nothing else left (no new enrolment since): no database.
  signOutWaiting = false;
  await store.plain.remove("sign_out");
  if (!(await store.plain.get("device"))) await store.destroy();
}
