/* Pieces of a report's screens: where it was taken (the phone's position and the area), its photos, the list of
   what is wrong with it, and its fields read back by their titles. */

import { html, useEffect, useRef, useState } from "../html.js";
import * as reports from "../reports.js";
import { describe, fieldId } from "../schema_form.js";
import { Problem, time } from "../ui.js";

/* ---- where ------------------------------------------------------------------------------------------------- */

export function position(location) {
  return `${location.latitude.toFixed(5)}, ${location.longitude.toFixed(5)} (± ${location.accuracy_m} m)`;
}

/* The position with its accuracy, taken when a draft opens without one and again on Refresh. */
export function Where({ entry, area, setArea, errors }) {
  const [locating, setLocating] = useState(false);
  const [problem, setProblem] = useState("");
  const [areas, setAreas] = useState([]);
  useEffect(() => { reports.areas().then(setAreas, () => {}); }, []); // none to pick from: the code is typed

  async function take() {
    setLocating(true);
    setProblem("");
    try {
      const location = await reports.locate();
      await reports.update(entry.id, (now) => { now.location = location; });
    } catch (error) {
      setProblem(error.message);
    }
    setLocating(false);
  }
  useEffect(() => { if (!entry.location) take(); }, [entry.id]);

  const areaErrors = errors["@area"] || [];
  const locationErrors = Object.entries(errors).filter(([path]) => path.startsWith("@location"))
    .flatMap(([, messages]) => messages);
  return html`<section aria-labelledby="where-heading" class="where">
    <h2 id="where-heading">Where</h2>
    <p id="position" role="status">${locating ? "Finding the phone's position…" : entry.location
      ? html`<span class="position">${position(entry.location)}</span>
        <span class="meta">Taken at ${time(entry.location.at)}</span>` : "No position."}</p>
    <${Problem} error=${problem || locationErrors.join(" ")} />
    <button type="button" class="small" id="refresh-position" onClick=${take} disabled=${locating}>
      ${entry.location ? "Refresh position" : "Take position"}</button>
    <div class=${areaErrors.length ? "field invalid" : "field"}>
      <label for="area">Area (optional)</label>
      <p class="help" id="area-help">Leave it empty and Muster finds the area from the position. If the position is
        missing or wrong, pick the beat from the list or type its code (e.g. brixton).</p>
      ${areaErrors.length > 0 && html`<p class="field-error" id="area-error">${areaErrors.join(" ")}</p>`}
      <datalist id="area-choices">${areas.map((choice) => html`
        <option value=${choice.code}>${choice.name}</option>`)}</datalist>
      <input id="area" name="area" list="area-choices" value=${area} autocapitalize="none" spellcheck="false"
        maxlength="40"
        aria-describedby=${areaErrors.length ? "area-help area-error" : "area-help"}
        aria-invalid=${areaErrors.length ? "true" : undefined}
        onInput=${(event) => setArea(event.target.value.trim())} />
    </div>
  </section>`;
}

/* ---- photos ------------------------------------------------------------------------------------------------ */

function photoState(photo) {
  if (photo.sent) return "Sent";
  return photo.refused ? `Not accepted: ${photo.refused}` : "Waiting to be sent";
}

export function Photos({ entry, canAdd }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  async function added(event) {
    const files = [...event.target.files];
    event.target.value = "";
    setBusy(true);
    setProblem("");
    try {
      for (const file of files) await reports.addPhoto(entry.id, file);
    } catch (error) {
      setProblem(`The photo could not be kept: ${error.message}`);
    }
    setBusy(false);
  }
  return html`<section aria-labelledby="photos-heading">
    <h2 id="photos-heading">Photos</h2>
    ${entry.photos.length === 0 ? html`<p class="muted">No photos.</p>` : html`<ul class="thumbs">
      ${entry.photos.map((photo, index) => html`<li key=${photo.id} class="thumb" data-photo=${photo.id}>
        ${photo.thumb ? html`<img src=${photo.thumb} alt=${`Photo ${index + 1}`} />`
          : html`<span class="no-thumb">${photo.name}</span>`}
        <span class="meta photo-state">${photoState(photo)}</span>
        ${canAdd && !photo.sent && html`<button type="button" class="small link"
          onClick=${() => reports.removePhoto(entry.id, photo.id)}>Remove photo ${index + 1}</button>`}
      </li>`)}</ul>`}
    <${Problem} error=${problem} />
    ${canAdd && html`<div class="row">
      <label class="button file-button" for="take-photo">${busy ? "Keeping the photo…" : "Take a photo"}
        <input id="take-photo" class="file-input" type="file" accept="image/*" capture="environment"
          onChange=${added} disabled=${busy} /></label>
      <label class="button file-button" for="pick-photos">Choose photos
        <input id="pick-photos" class="file-input" type="file" accept="image/*" multiple onChange=${added}
          disabled=${busy} /></label>
    </div>`}
  </section>`;
}

/* ---- what is wrong ------------------------------------------------------------------------------------------ */

const OTHER_FIELDS = { "@area": "Area", "@location": "Position", "@captured_at": "Time taken",
  "@report_type": "Form", "@reason": "Reason", "@": "" };

/* Everything wrong, at the top of the form: each line moves the focus to its field (not a link: the address's
   #part is the app's route). `shown` holds the paths the form has a field for. */
export function ErrorSummary({ errors, shown, attempt = 0 }) {
  const heading = useRef(null);
  const lines = Object.entries(errors).filter(([, messages]) => messages.length);
  // Focused once per try at sending (not while the officer types corrections), so a screen reader reads it out.
  useEffect(() => { if (attempt && lines.length) heading.current?.focus(); }, [attempt]);
  if (!lines.length) return null;
  const target = (path) => {
    if (path.startsWith("@")) return { "@area": "area", "@reason": "reason" }[path] || null;
    return shown.has(path) ? fieldId(path.split(".")) : null;
  };
  const focus = (id) => {
    const element = document.getElementById(id);
    (element?.matches("fieldset") ? element.querySelector("input, select, textarea, button") : element)?.focus();
  };
  return html`<div class="error-summary" role="alert">
    <h2 tabindex="-1" ref=${heading}>Check ${lines.length === 1 ? "this" : `these ${lines.length}`} before sending</h2>
    <ul>${lines.map(([path, messages]) => {
      const id = target(path);
      const label = path in OTHER_FIELDS ? OTHER_FIELDS[path] : "";
      const text = `${label ? `${label}: ` : ""}${messages.join(" ")}`;
      return html`<li key=${path}>${id ? html`<button type="button" class="link" onClick=${() => focus(id)}>${text}
        </button>` : text}</li>`;
    })}</ul>
  </div>`;
}

/* ---- read back ---------------------------------------------------------------------------------------------- */

export function Fields({ schema, data }) {
  const rows = describe(schema, data);
  if (!rows.length) return html`<p class="muted">No fields filled in.</p>`;
  return html`<dl class="facts report-fields">${rows.map((row) => html`
    <dt key=${`${row.path}-title`}>${row.title}</dt><dd key=${row.path} data-path=${row.path}>${row.text}</dd>`)}</dl>`;
}
