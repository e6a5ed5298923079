/* Pieces every screen uses: the page frame with its bottom navigation, status lines, polling and times. */

import { html, useEffect, useRef, useState } from "./html.js";
import * as session from "./session.js";

const TABS = [["callouts", "Callouts"], ["reports", "Reports"], ["availability", "Availability"], ["device", "Device"]];

/* Re-renders the caller when `source` (a module with subscribe()) says something changed. */
export function useChanges(source) {
  const [, setTick] = useState(0);
  useEffect(() => source.subscribe(() => setTick((tick) => tick + 1)), [source]);
}

export function useSession() {
  useChanges(session);
  return session.state;
}

/* Calls `load` now, then every `ms` while the page is visible (a hidden phone screen costs no battery). */
export function usePoll(load, ms, keys) {
  useEffect(() => {
    let timer = null;
    const tick = () => {
      clearTimeout(timer);
      if (document.visibilityState === "visible") load();
      timer = setTimeout(tick, ms);
    };
    tick();
    document.addEventListener("visibilitychange", tick);
    return () => { clearTimeout(timer); document.removeEventListener("visibilitychange", tick); };
  }, keys);
}

/* A screen: its heading (focused when the screen opens, so a screen reader says where it is), its content, and
   the tabs at the bottom where a thumb reaches them. */
export function Page({ title, tab, back, children }) {
  const heading = useRef(null);
  useEffect(() => { heading.current?.focus(); }, [title]);
  return html`
    <header class="bar">
      ${back && html`<a class="back" href=${back} aria-label="Back">‹</a>`}
      <h1 tabindex="-1" ref=${heading}>${title}</h1>
    </header>
    <main class="page">${children}</main>
    ${tab && html`<nav class="tabs" aria-label="Sections">
      ${TABS.map(([path, label]) => html`
        <a href=${`#/${path}`} aria-current=${tab === path ? "page" : undefined}>${label}</a>`)}
    </nav>`}`;
}

export function Problem({ error }) {
  return error ? html`<p class="problem" role="alert">${error}</p>` : null;
}

export function Saved({ at, offline }) {
  if (!offline) return null;
  const saved = at ? ` at ${time(at)}` : "";
  return html`<p class="offline" role="status">No connection: showing what was saved${saved}.</p>`;
}

/* "1 minute", "30 minutes". */
export function count(number, word) {
  return `${number} ${word}${number === 1 ? "" : "s"}`;
}

// Times as the app's language writes them (the page's lang, en-GB: 24-hour, day before month), whatever language
// the phone's browser happens to be set to: the same times as the back office and the radio.
const LANGUAGE = document.documentElement.lang;

export function time(iso) {
  return new Date(iso).toLocaleTimeString(LANGUAGE, { hour: "2-digit", minute: "2-digit" });
}

export function when(iso) {
  return new Date(iso).toLocaleString(LANGUAGE,
    { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

export function dateAndTime(iso) {
  return new Date(iso).toLocaleString(LANGUAGE, { dateStyle: "medium", timeStyle: "short" });
}
