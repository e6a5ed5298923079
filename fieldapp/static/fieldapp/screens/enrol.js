/* Enrolment: the phone's one sign-in, with the second factor, that gives it a device token. */

import { ApiError, Offline } from "../api.js";
import { html, useState } from "../html.js";
import * as session from "../session.js";
import { Page, Problem, useSession } from "../ui.js";

export function platform() {
  const agent = navigator.userAgent;
  if (/iPhone|iPad|iPod/.test(agent) || (/Macintosh/.test(agent) && navigator.maxTouchPoints > 1)) return "ios";
  return /Android/.test(agent) ? "android" : "web";
}

const NAMES = { ios: "iPhone", android: "Android phone", web: "Web browser" };

export function Enrol() {
  const { notice } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  async function submit(event) {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.target));
    setBusy(true);
    setError("");
    try {
      await session.enrol({ ...form, platform: platform() });
    } catch (problem) {
      if (!(problem instanceof ApiError || problem instanceof Offline)) throw problem;
      setError(problem instanceof Offline ? "No connection: enrolling needs signal." : problem.message);
      setBusy(false);
    }
  }

  return html`<${Page} title="Enrol this phone">
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    <p>Sign in once with your Muster username and password and the code your authenticator app shows. Then choose a
      PIN: it opens the app and locks what Muster keeps on this phone.</p>
    <form class="stack" onSubmit=${submit}>
      <label for="username">Username</label>
      <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false"
        required maxlength="150" />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required
        maxlength="128" />
      <label for="otp_token">Code from your authenticator app</label>
      <input id="otp_token" name="otp_token" inputmode="numeric" autocomplete="one-time-code" required
        maxlength="16" />
      <label for="name">Name of this phone</label>
      <input id="name" name="name" value=${NAMES[platform()]} required maxlength="100" />
      <${Problem} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? "Enrolling…" : "Enrol"}</button>
    </form>
  <//>`;
}
