/* Muster's public API (/api/v1/), as every other client uses it. Errors come back in one shape
   ({"error": {"code", "message", "fields"}}, config/api.py); a failed connection is an Offline error, so callers
   can tell "no signal" (queue it, show what was saved) from "the server said no" (show why). */

const BASE = document.documentElement.dataset.api;
let token = null;
let onSignedOut = () => {};

export class Offline extends Error {}

// The `online` event can come a moment before requests get through (the radio is up, the route is not yet), so
// work waiting for signal is tried at once and twice more soon after, rather than only on its own timer.
const AFTER_ONLINE_MS = [0, 3000, 10000];

export function whenBackOnline(retry) {
  addEventListener("online", () => AFTER_ONLINE_MS.forEach((ms) => setTimeout(retry, ms)));
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code;
    this.fields = error.fields || {};
  }
}

export function useToken(value) {
  token = value;
}

/* Called when the server no longer knows this device's token (revoked, expired): the app signs itself out. */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/* A FormData body goes as multipart (a report's photo); `blob: true` answers a file as a Blob. */
export async function api(path, { method = "GET", body, auth = true, blob = false } = {}) {
  const headers = { Accept: "application/json" };
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (auth && token) headers.Authorization = `Token ${token}`;
  let response;
  try {
    response = await fetch(BASE + path, {
      method, headers, body: body === undefined || form ? body : JSON.stringify(body),
      cache: "no-store", credentials: "omit", // the token is the login; no cookie, nothing kept by the HTTP cache
    });
  } catch {
    throw new Offline("No connection to Muster.");
  }
  if (response.status === 204) return null;
  if (blob && response.ok) return response.blob();
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  if (response.status === 401 && auth && token) onSignedOut();
  throw new ApiError(response.status, data.error || {});
}

/* Every page of a list endpoint's results. */
export async function all(path) {
  const results = [];
  let next = path;
  while (next) {
    const page = await api(next);
    results.push(...page.results);
    next = page.next ? page.next.slice(page.next.indexOf(BASE) + BASE.length) : null;
  }
  return results;
}
