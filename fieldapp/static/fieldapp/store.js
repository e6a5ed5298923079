/* What the app keeps on the phone, in IndexedDB, in two object stores:

   - "sealed": everything about the officer and their work (the device token, cached callouts and availability,
     queued answers, drafts), each record encrypted with the PIN's key (crypto.js). The key lives in this
     module's memory only while the app is unlocked.
   - "plain": what must be read before the PIN is known and says nothing about anyone: the salt, the count of
     wrong PINs, the server's public app settings, and the device's id with its wipe key (the one thing that key
     can do is sign this device out, which is what a thief would want least). */

import { deriveKey, randomBytes, seal, unseal } from "./crypto.js";

const DATABASE = "muster";
const PLAIN = "plain";
const SEALED = "sealed";
const VERIFIER = "verifier"; // a sealed record whose only use is telling a right PIN from a wrong one

let connection = null;
let key = null;

function opened() {
  connection ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(PLAIN);
      request.result.createObjectStore(SEALED);
    };
    request.onsuccess = () => {
      // Another tab deleting the database (a wipe) must not wait on this connection.
      request.result.onversionchange = () => { request.result.close(); connection = null; };
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
  return connection;
}

/* One request in its own transaction; resolves once the transaction has committed. */
async function run(storeName, mode, makeRequest) {
  const db = await opened();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const request = makeRequest(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const plain = {
  get: (name) => run(PLAIN, "readonly", (store) => store.get(name)),
  set: (name, value) => run(PLAIN, "readwrite", (store) => store.put(value, name)),
  remove: (name) => run(PLAIN, "readwrite", (store) => store.delete(name)),
};

export function isUnlocked() {
  return key !== null;
}

export async function hasPin() {
  return (await plain.get("salt")) !== undefined
    && (await run(SEALED, "readonly", (store) => store.count(VERIFIER))) > 0;
}

export async function createPin(pin) {
  const salt = randomBytes(16);
  const candidate = await deriveKey(pin, salt);
  await plain.set("salt", salt);
  key = candidate;
  await put(VERIFIER, { made: new Date().toISOString() });
}

/* True and unlocked with the right PIN; false with a wrong one (the caller counts the failures). */
export async function unlock(pin) {
  const salt = await plain.get("salt");
  const candidate = await deriveKey(pin, salt);
  const record = await run(SEALED, "readonly", (store) => store.get(VERIFIER));
  try {
    await unseal(candidate, VERIFIER, record);
  } catch {
    return false;
  }
  key = candidate;
  return true;
}

export function lock() {
  key = null;
}

/* Thrown by a read or write that comes after the lock (a poll answered late, say): that work is dropped. */
export class Locked extends Error {}

function unlockedKey() {
  if (key === null) throw new Locked("The app is locked.");
  return key;
}

export async function get(name) {
  const sealedWith = unlockedKey();
  const record = await run(SEALED, "readonly", (store) => store.get(name));
  return record === undefined ? undefined : unseal(sealedWith, name, record);
}

export async function put(name, value) {
  const record = await seal(unlockedKey(), name, value);
  await run(SEALED, "readwrite", (store) => store.put(record, name));
}

export function remove(name) {
  unlockedKey();
  return run(SEALED, "readwrite", (store) => store.delete(name));
}

/* The names of the sealed records starting with `prefix` (names say what a record is, never what it holds). */
export async function names(prefix) {
  unlockedKey();
  const all = await run(SEALED, "readonly", (store) => store.getAllKeys());
  return all.filter((name) => name.startsWith(prefix));
}

/* Everything gone: the key from memory, the database from the disk. */
export async function destroy() {
  key = null;
  if (connection) {
    (await connection).close();
    connection = null;
  }
  await new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(DATABASE);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
    request.onblocked = () => resolve(); // another tab still open: the deletion completes when it lets go
  });
}

/* Binary data (a photo) sealed as it is, without a detour through JSON: AES-GCM under the same key, a random IV,
   the record's name as additional data. */
export async function putBytes(name, bytes) {
  const iv = randomBytes(12);
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(name) },
    unlockedKey(), bytes);
  await run(SEALED, "readwrite", (store) => store.put({ iv, data }, name));
}

/* The bytes sealed under `name` (an ArrayBuffer), or undefined. */
export async function getBytes(name) {
  const record = await run(SEALED, "readonly", (store) => store.get(name));
  if (record === undefined) return undefined;
  return crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv, additionalData: new TextEncoder().encode(name) },
    unlockedKey(), record.data);
}
