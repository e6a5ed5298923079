/* Encryption of what the app keeps on the phone (WebCrypto only).

   The key comes from the officer's PIN through PBKDF2-SHA-256 with 600,000 iterations (OWASP's 2023 figure for
   that hash), so a copied IndexedDB costs an attacker that much work per guess of a PIN; it is made
   non-extractable, so even script running in the page cannot read it out. Every record is AES-GCM with its own
   random 96-bit IV, and its name as additional data: a record moved under another name fails to open. */

const ITERATIONS = 600000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function randomBytes(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

export async function deriveKey(pin, salt) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(pin), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS },
    material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/* A JSON value sealed under `name`: {iv, data}, both binary, nothing of the value readable. */
export async function seal(key, name, value) {
  const iv = randomBytes(12);
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(name) },
    key, encoder.encode(JSON.stringify(value)));
  return { iv, data };
}

/* The value sealed under `name`; throws (OperationError) when the key is not the one it was sealed with. */
export async function unseal(key, name, record) {
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv, additionalData: encoder.encode(name) },
    key, record.data);
  return JSON.parse(decoder.decode(plain));
}
