/* The field app's entry: the service worker, the session, and which screen the route and the lock allow. */

import { html, render } from "./html.js";
import * as outbox from "./outbox.js";
import * as push from "./push.js";
import * as reports from "./reports.js";
import { useRoute } from "./router.js";
import * as session from "./session.js";
import * as store from "./store.js";
import { Availability } from "./screens/availability.js";
import { CalloutScreen } from "./screens/callout.js";
import { CalloutList } from "./screens/callouts.js";
import { Device } from "./screens/device.js";
import { Enrol } from "./screens/enrol.js";
import { CirculatedReport, Circulations } from "./screens/circulations.js";
import { ReportScreen } from "./screens/report_form.js";
import { Reports } from "./screens/reports.js";
import { ChoosePin, Unlock } from "./screens/pin.js";
import { useSession } from "./ui.js";

const root = document.documentElement;

function Routed() {
  const [section, id, mode] = useRoute();
  if (section === "callouts" && id) return html`<${CalloutScreen} id=${id} key=${id} />`;
  if (section === "availability") return html`<${Availability} />`;
  if (section === "device") return html`<${Device} />`;
  if (section === "reports" && id) return html`<${ReportScreen} id=${id} mode=${mode} key=${`${id}/${mode}`} />`;
  if (section === "reports") return html`<${Reports} />`;
  if (section === "circulations" && id) return html`<${CirculatedReport} id=${id} key=${id} />`;
  if (section === "circulations") return html`<${Circulations} />`;
  return html`<${CalloutList} />`;
}

function App() {
  const { phase } = useSession();
  if (phase === "starting") return html`<p class="starting">Starting Muster…</p>`;
  if (phase === "enrol") return html`<${Enrol} />`;
  if (phase === "pin") return html`<${ChoosePin} />`;
  if (phase === "locked") return html`<${Unlock} />`;
  return html`<${Routed} />`;
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope });
  // A tapped notification, when the app is already open: go to its screen without reloading (which would lock).
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "open") location.hash = new URL(event.data.url, location.href).hash;
  });
}

// Work the lock cut short (a poll that answered after it, a queued answer mid-send) is dropped on purpose: its
// data cannot be sealed without the key. It is not an error; the next unlock picks the work up again.
addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof store.Locked) event.preventDefault();
});

session.onUnlocked(() => {
  push.refresh(session.state.config.vapid_public_key);
  outbox.flush();
  navigator.storage?.persist?.(); // asks the browser not to evict unsent answers and drafts
});
outbox.start();
reports.startOutbox();
render(html`<${App} />`, document.getElementById("app"));
session.start();
