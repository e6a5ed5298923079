/* Field reports and the circulations inbox are the next part of the app; their addresses exist already so that
   links (a circulation's push opens #/circulations) land somewhere that says so. */

import { html } from "../html.js";
import { Page } from "../ui.js";

export function Reports() {
  return html`<${Page} title="Field reports" tab="reports">
    <p>Filing field reports from the app is coming in a later version.</p>
    <p><a href="#/circulations">Reports circulated to me</a></p>
  <//>`;
}

export function Circulations() {
  return html`<${Page} title="Circulated to me" tab="reports" back="#/reports">
    <p>The inbox of reports circulated to you is coming in a later version. Until then, your supervisor can show
      you them in Muster's back office.</p>
  <//>`;
}
