/* Callout alerts by Web Push: the subscription is made (or checked) each time the app is unlocked and sent to
   Muster again, since subscriptions are known to stop silently after some days. Permission is asked only after a
   tap on the button that explains it (iPhones refuse to ask otherwise). */

import { api } from "./api.js";

const listeners = new Set();
export const push = { status: "checking", detail: "" };

function set(status, detail = "") {
  Object.assign(push, { status, detail });
  listeners.forEach((listener) => listener());
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// The browser's push service (Google's, Apple's, Mozilla's) may be out of reach on a locked-down network; the
// browser then never answers, and the officer should hear so rather than wait.
const SUBSCRIBE_MS = 20000;

function answerWithin(ms, promise) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error("the browser's push service did not answer")), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (character) => character.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options.applicationServerKey;
  return current && new Uint8Array(current).join() === key.join();
}

/* Subscribes when the officer has allowed notifications; otherwise says what is needed. */
export async function refresh(vapidKey) {
  if (!supported()) return set("unsupported");
  if (!vapidKey) return set("off");
  if (Notification.permission === "denied") return set("blocked");
  if (Notification.permission === "default") return set("ask");
  try {
    const registration = await navigator.serviceWorker.ready;
    const key = keyBytes(vapidKey);
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe(); // the server's key changed: the old subscription can never be sent to
      subscription = null;
    }
    subscription ??= await answerWithin(SUBSCRIBE_MS, registration.pushManager.subscribe(
      { userVisibleOnly: true, applicationServerKey: key }));
    await api("push-subscriptions/", { method: "POST", body: subscription.toJSON() });
    set("on");
  } catch (error) {
    set("failed", error.message);
  }
}

/* After the officer's tap: the browser's question, then the subscription. */
export async function allow(vapidKey) {
  await Notification.requestPermission();
  await refresh(vapidKey);
}
