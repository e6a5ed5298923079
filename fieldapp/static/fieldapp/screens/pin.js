/* Choosing the PIN after enrolment, and unlocking with it. */

import { html, useState } from "../html.js";
import { useRoute } from "../router.js";
import * as session from "../session.js";
import { Page, Problem, count, useSession } from "../ui.js";

const PIN = /^[0-9]{6,}$/;

function PinInput({ id, label, autocomplete = "off" }) {
  return html`
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} type="password" inputmode="numeric" pattern="[0-9]*" minlength="6" maxlength="32"
      autocomplete=${autocomplete} required />`;
}

export function ChoosePin() {
  const { config } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  async function submit(event) {
    event.preventDefault();
    const { pin, again } = Object.fromEntries(new FormData(event.target));
    if (!PIN.test(pin)) return setError("The PIN must be at least 6 digits, digits only.");
    if (pin !== again) return setError("The two PINs are not the same. Enter them again.");
    setError("");
    setBusy(true);
    await session.choosePin(pin);
  }

  return html`<${Page} title="Choose a PIN">
    <p>At least 6 digits. You will enter it each time you open Muster and after ${count(config.lock_after_minutes,
      "minute")} without use. ${config.pin_attempts} wrong PINs in a row wipe Muster from this phone.</p>
    <form class="stack" onSubmit=${submit} novalidate>
      <${PinInput} id="pin" label="PIN" autocomplete="new-password" />
      <${PinInput} id="again" label="The same PIN again" autocomplete="new-password" />
      <${Problem} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? "Locking your data…" : "Set PIN"}</button>
    </form>
  <//>`;
}

export function Unlock() {
  const { wrongPins, config } = useSession();
  const route = useRoute();
  const [busy, setBusy] = useState(false);
  const left = config.pin_attempts - wrongPins;

  async function submit(event) {
    event.preventDefault();
    const input = event.target.elements.pin;
    setBusy(true);
    const right = await session.unlock(input.value);
    if (!right) {
      input.value = "";
      setBusy(false);
      input.focus();
    }
  }

  return html`<${Page} title="Muster is locked">
    ${route[0] === "callouts" && route[1] && html`<p class="notice">Enter your PIN to see the callout.</p>`}
    <form class="stack" onSubmit=${submit}>
      <${PinInput} id="pin" label="PIN" />
      ${wrongPins > 0 && html`<${Problem} error=${`Wrong PIN. ${left} ${left === 1 ? "try" : "tries"} left before `
        + "Muster's data on this phone is wiped."} />`}
      <button type="submit" class="primary" disabled=${busy}>${busy ? "Checking…" : "Unlock"}</button>
    </form>
  <//>`;
}
