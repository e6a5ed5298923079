/* A report type's JSON Schema as a form: a field per property, in order, with its title as the label, its
   description as help, whether it is required, and the phone's own pickers for choices, numbers, dates and times;
   lists with Add and Remove; groups for nested objects. What each keyword does is in schema.js's KEYWORDS.

   The form is controlled: `value` is the report's data and every change comes back through `onChange(data)`.
   Errors are keyed by field path as schema.js and the server's 400 name them ("age", "people_involved.0.name"), and
   each is shown on its field; those no field shows are listed at the top. */

import { html, useEffect, useState } from "./html.js";
import { equal, typeOf } from "./schema.js";
import { dateAndTime } from "./ui.js";

const MAX_RADIOS = 5; // more choices than this become a list (a select), which takes less of a small screen
const LONG_TEXT = 300; // text allowed to be longer than this gets a box of several lines
const DEPTH = 40; // $refs followed for one field; the publish check refuses cycles, this only guards a bad copy

/* ---- what a field is, from its schema ----------------------------------------------------------------------- */

/* The parts that apply to a value at a place: the schema itself, what its $refs point to, its allOf, the then or
   else its if picks for the value, and the dependentSchemas of the fields filled in. */
function parts(schema, node, value, depth = 0) {
  if (!node || typeof node !== "object" || depth > DEPTH) return [];
  const found = [];
  for (const keyword of ["$ref", "$dynamicRef"]) {
    if (keyword in node) found.push(...parts(schema, schema.target(node[keyword]), value, depth + 1));
  }
  found.push(node);
  (node.allOf || []).forEach((part) => found.push(...parts(schema, part, value, depth + 1)));
  if ("if" in node) {
    const branch = schema.isValid(node.if, value) ? node.then : node.else;
    found.push(...parts(schema, branch, value, depth + 1));
  }
  if (typeOf(value) === "object" && node.dependentSchemas) {
    Object.entries(node.dependentSchemas).filter(([name]) => name in value)
      .forEach(([, part]) => found.push(...parts(schema, part, value, depth + 1)));
  }
  return found;
}

const TIGHTEST = { minimum: Math.max, exclusiveMinimum: Math.max, minLength: Math.max, minItems: Math.max,
  maximum: Math.min, exclusiveMaximum: Math.min, maxLength: Math.min, maxItems: Math.min };

/* One description of the field from all its parts: the nearest title and help, the tightest bounds, every
   property (a property named in two parts gets both as an allOf), every required name. */
export function view(schema, node, value) {
  const merged = { properties: {}, required: new Set(), parts: [] };
  for (const part of parts(schema, node, value)) {
    merged.parts.push(part);
    for (const [keyword, given] of Object.entries(part)) {
      if (keyword === "properties" && typeOf(given) === "object") {
        for (const [name, property] of Object.entries(given)) {
          merged.properties[name] = name in merged.properties
            ? { allOf: [merged.properties[name], property] } : property;
        }
      } else if (keyword === "required" && Array.isArray(given)) {
        given.forEach((name) => merged.required.add(name));
      } else if (keyword === "dependentRequired" && typeOf(value) === "object") {
        Object.entries(given).filter(([name]) => name in value)
          .forEach(([, names]) => names.forEach((name) => merged.required.add(name)));
      } else if (keyword in TIGHTEST && keyword in merged) {
        merged[keyword] = TIGHTEST[keyword](merged[keyword], given);
      } else if (!(keyword in merged) || ["title", "description"].includes(keyword)) {
        merged[keyword] = given; // the schema's own title beats the one of what its $ref points to
      }
    }
  }
  return merged;
}

/* The choices of a field: its enum, or a oneOf/anyOf whose every part is a const (with a title as its label). */
function choices(schema, field) {
  if (Array.isArray(field.enum)) return field.enum.map((value) => ({ value, label: label(value) }));
  for (const keyword of ["oneOf", "anyOf"]) {
    const options = (field[keyword] || []).map((part) => view(schema, part, undefined));
    if (options.length && options.every((option) => "const" in option)) {
      return options.map((option) => ({ value: option.const, label: option.title || label(option.const) }));
    }
  }
  return null;
}

/* "no-apparent-risk" → "No apparent risk": values are written for machines, labels for people. */
function label(value) {
  if (typeof value !== "string") return value === null ? "None" : String(value);
  const words = value.replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function kind(field, options, picked = false) {
  const types = Array.isArray(field.type) ? field.type.filter((type) => type !== "null") : [field.type];
  const type = types[0];
  if ("const" in field) return "const";
  if (options) return type === "array" ? "array" : "choice";
  if (!picked && (field.oneOf || field.anyOf)) return "alternatives";
  if (type === "array" || (!type && ("items" in field || "prefixItems" in field))) return "array";
  if (type === "object" || (!type && Object.keys(field.properties).length)) return "object";
  if (type === "boolean") return "boolean";
  if (type === "integer" || type === "number") return type;
  return "string";
}

/* What to draw for a value at a place: its merged schema, its choices and its shape. `picked` is the part of a
   oneOf or anyOf of shapes the officer chose (see Alternatives). */
function fieldOf(schema, node, value, picked) {
  const field = view(schema, picked ? { allOf: [node, picked] } : node, value);
  const options = choices(schema, field);
  return { field, options, shape: kind(field, options, Boolean(picked)) };
}

/* The value a new report starts with: defaults and consts, required groups, and the least number of entries. */
export function initial(schema, node = schema.root) {
  const { field, shape } = fieldOf(schema, node, undefined);
  if ("default" in field) return structuredClone(field.default);
  if ("const" in field) return structuredClone(field.const);
  if (shape === "object") {
    const value = {};
    for (const [name, property] of Object.entries(field.properties)) {
      const start = initial(schema, property);
      if (start !== undefined && (field.required.has(name) || typeOf(start) !== "object")) value[name] = start;
    }
    return value;
  }
  if (shape === "array" && field.minItems) {
    return Array.from({ length: field.minItems }, (_, index) => itemStart(schema, field, index));
  }
  return undefined;
}

function itemSchema(field, index) {
  const prefix = Array.isArray(field.prefixItems) ? field.prefixItems : [];
  return index < prefix.length ? prefix[index] : field.items;
}

function itemStart(schema, field, index) {
  const start = initial(schema, itemSchema(field, index) ?? true);
  if (start !== undefined) return start;
  const { shape } = fieldOf(schema, itemSchema(field, index) ?? true, undefined);
  return { string: "", object: {}, array: [] }[shape] ?? null;
}

/* ---- values ------------------------------------------------------------------------------------------------- */

/* `data` with `value` at `path`; undefined removes a field (in a list it becomes null, keeping the others' places),
   and a group of fields left empty goes with its last field. */
export function setAt(data, path, value) {
  if (!path.length) return value;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const copy = Array.isArray(data) ? [...data] : [];
    const next = setAt(copy[head], rest, value);
    copy[head] = next === undefined ? null : next;
    return copy;
  }
  const copy = typeOf(data) === "object" ? { ...data } : {};
  const next = setAt(copy[head], rest, value);
  const emptied = value === undefined && typeOf(next) === "object" && !Object.keys(next).length;
  if (next === undefined || emptied) delete copy[head];
  else copy[head] = next;
  return copy;
}

const pad = (number) => String(number).padStart(2, "0");

/* datetime-local's value (the phone's time) for an RFC 3339 time; "" when there is none. */
export function localInput(iso) {
  const date = typeof iso === "string" ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${
    pad(date.getMinutes())}`;
}

/* RFC 3339 with the phone's UTC offset at that moment, as the server wants it: 2026-06-03T08:30:00+01:00. */
export function withOffset(local) {
  if (!local) return undefined;
  const date = new Date(local);
  if (Number.isNaN(date.getTime())) return undefined;
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const seconds = local.length === 16 ? ":00" : "";
  return `${local}${seconds}${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/* ---- the form ----------------------------------------------------------------------------------------------- */

export function fieldId(path) {
  return `field-${path.join(".")}`;
}

/* Messages for one path, without the "age: " the server puts before them (the field shows where). */
function messagesAt(errors, path) {
  const key = path.join(".");
  return (errors[key] || []).map((text) => (key && text.startsWith(`${key}: `) ? text.slice(key.length + 2) : text));
}

/* The paths a form shows a field for, so the errors at any other path are listed at the top. */
export function shownPaths(schema, value) {
  const found = new Set();
  const walk = (node, at, current, picked) => {
    const { field, shape } = fieldOf(schema, node, current, picked);
    found.add(at.join("."));
    if (shape === "object") {
      Object.entries(field.properties).forEach(([name, property]) => walk(property, [...at, name], current?.[name]));
    } else if (shape === "array" && Array.isArray(current)) {
      current.forEach((item, index) => walk(itemSchema(field, index) ?? true, [...at, index], item));
    } else if (shape === "alternatives") {
      const chosen = chosenAlternative(schema, field, current);
      if (chosen !== null) walk(node, at, current, chosen.part);
    }
  };
  walk(schema.root, [], value);
  return found;
}

export function SchemaForm({ schema, value, onChange, errors = {}, disabled = false }) {
  const form = { schema, errors, disabled, set: (path, next) => onChange(setAt(value, path, next)) };
  return html`<div class="schema-form">
    <${Field} form=${form} node=${schema.root} path=${[]} value=${value} root=${true} />
  </div>`;
}

function Field({ form, node, path, value, required = false, root = false, name = "", itemLabel = "", picked }) {
  const { field, options, shape } = fieldOf(form.schema, node, value, picked);
  const props = { form, field, path, value, required, options, root,
    title: itemLabel || field.title || label(name || "Answer"), id: fieldId(path) };
  if (shape === "object") return html`<${ObjectField} ...${props} />`;
  if (shape === "array") return html`<${ArrayField} ...${props} />`;
  if (shape === "alternatives") return html`<${Alternatives} ...${props} node=${node} />`;
  const Widget = WIDGETS[shape === "string" ? stringWidget(field) : shape];
  return html`<${Widget} ...${props} />`;
}

function stringWidget(field) {
  if (field.format === "date") return "date";
  if (field.format === "date-time") return "date-time";
  if (field.format === "time") return "time";
  if (field.format === "email") return "email";
  return field.maxLength === undefined || field.maxLength > LONG_TEXT ? "long-text" : "text";
}

/* Label, help and errors around one input; the input is told which of them describe it. */
function Labelled({ id, title, field, required, errors, children, group = false }) {
  const help = field.description ? `${id}-help` : null;
  const error = errors.length ? `${id}-error` : null;
  const described = [help, error].filter(Boolean).join(" ") || undefined;
  const caption = html`${title}${required && html` <span class="required">(required)</span>`}${field.deprecated
    && html` <span class="required">(no longer used)</span>`}`;
  const content = children(described, errors.length > 0);
  const notes = html`
    ${help && html`<p class="help" id=${help}>${field.description}</p>`}
    ${error && html`<p class="field-error" id=${error}>${errors.join(" ")}</p>`}`;
  if (group) {
    return html`<fieldset class="field group" id=${id} aria-describedby=${described}
        aria-invalid=${errors.length ? "true" : undefined}>
      <legend>${caption}</legend>${notes}${content}
    </fieldset>`;
  }
  return html`<div class=${errors.length ? "field invalid" : "field"}>
    <label for=${id}>${caption}</label>${notes}${content}
  </div>`;
}

function common(props, described, invalid) {
  return { id: props.id, name: props.id, "aria-describedby": described, "aria-invalid": invalid ? "true" : undefined,
    "aria-required": props.required ? "true" : undefined, disabled: props.form.disabled,
    readonly: props.field.readOnly || undefined };
}

function emptyAs(path) {
  return typeof path[path.length - 1] === "number" ? "" : undefined; // a list keeps an emptied entry's place
}

function TextField(props) {
  const { form, field, path, value } = props;
  const long = stringWidget(field) === "long-text";
  const type = { email: "email", time: "time" }[stringWidget(field)] || "text";
  const placeholder = Array.isArray(field.examples) && field.examples.length ? `e.g. ${field.examples[0]}` : undefined;
  const changed = (event) => form.set(path, event.target.value === "" ? emptyAs(path) : event.target.value);
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)}>${(described, invalid) => long
    ? html`<textarea ...${common(props, described, invalid)} rows="4" maxlength=${field.maxLength}
        placeholder=${placeholder} value=${typeof value === "string" ? value : ""} onInput=${changed} />`
    : html`<input ...${common(props, described, invalid)} type=${type} maxlength=${field.maxLength}
        placeholder=${placeholder} value=${typeof value === "string" ? value : ""} onInput=${changed}
        inputmode=${type === "email" ? "email" : undefined} autocomplete="off" />`}<//>`;
}

function NumberField(props) {
  const { form, field, path, value } = props;
  const integer = kind(field, null, true) === "integer";
  const step = field.multipleOf ?? (integer ? 1 : "any");
  const changed = (event) => {
    const text = event.target.value;
    form.set(path, text === "" ? undefined : Number(text));
  };
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)}>${(described, invalid) => html`
    <input ...${common(props, described, invalid)} type="number" step=${step} min=${field.minimum ?? undefined}
      max=${field.maximum ?? undefined} inputmode=${integer && (field.minimum ?? -1) >= 0 ? "numeric" : "decimal"}
      value=${typeof value === "number" ? value : ""} onInput=${changed} />`}<//>`;
}

function DateField(props) {
  const { form, path, value } = props;
  const changed = (event) => form.set(path, event.target.value || emptyAs(path));
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)}>${(described, invalid) => html`
    <input ...${common(props, described, invalid)} type="date" value=${typeof value === "string" ? value : ""}
      onInput=${changed} />`}<//>`;
}

function DateTimeField(props) {
  const { form, path, value } = props;
  const changed = (event) => form.set(path, withOffset(event.target.value) ?? emptyAs(path));
  const now = () => form.set(path, withOffset(localInput(new Date().toISOString())));
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)}>${(described, invalid) => html`
    <div class="with-button">
      <input ...${common(props, described, invalid)} type="datetime-local" value=${localInput(value)}
        onInput=${changed} />
      <button type="button" class="small" onClick=${now} disabled=${props.form.disabled}
        aria-label=${`${props.title}: now`}>Now</button>
    </div>`}<//>`;
}

/* Radio buttons in a group, or a select when there are many; the values may be numbers or text. */
function ChoiceField(props) {
  const { form, path, value, options, required, id } = props;
  const errors = messagesAt(form.errors, path);
  const index = options.findIndex((option) => equal(option.value, value));
  const pick = (position) => form.set(path, position < 0 ? emptyAs(path) : structuredClone(options[position].value));
  if (options.length > MAX_RADIOS) {
    return html`<${Labelled} ...${props} errors=${errors}>${(described, invalid) => html`
      <select ...${common(props, described, invalid)} onChange=${(event) => pick(Number(event.target.value))}>
        <option value="-1" selected=${index < 0}>${required ? "Choose…" : "Not given"}</option>
        ${options.map((option, position) => html`<option value=${position} selected=${position === index}>${
          option.label}</option>`)}
      </select>`}<//>`;
  }
  const radios = required ? options : [...options, { label: "Not given", none: true }];
  return html`<${Labelled} ...${props} errors=${errors} group=${true}>${() => html`<div class="choices">
    ${radios.map((option, position) => html`<label class="choice">
      <input type="radio" name=${id} id=${`${id}-${option.none ? "none" : position}`} disabled=${form.disabled}
        checked=${option.none ? index < 0 : position === index} onChange=${() => pick(option.none ? -1 : position)} />
      <span>${option.label}</span>
    </label>`)}</div>`}<//>`;
}

function BooleanField(props) {
  return html`<${ChoiceField} ...${props} options=${[{ value: true, label: "Yes" }, { value: false, label: "No" }]} />`;
}

/* A value the form fixes (const): shown, and filled in. */
function ConstField(props) {
  const { form, field, path, value } = props;
  useEffect(() => {
    if (!equal(value, field.const) && !form.disabled) form.set(path, structuredClone(field.const));
  });
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)}>${() => html`
    <output id=${props.id} class="fixed">${label(field.const)}</output>`}<//>`;
}

/* A list of choices with uniqueItems: tick boxes. */
function MultiChoice(props) {
  const { form, path, value, id, item } = props;
  const chosen = Array.isArray(value) ? value : [];
  const options = choices(form.schema, item);
  const toggle = (option, on) => {
    const rest = chosen.filter((entry) => !equal(entry, option.value));
    const next = on ? options.filter((o) => equal(o.value, option.value) || rest.some((r) => equal(r, o.value)))
      .map((o) => structuredClone(o.value)) : rest;
    form.set(path, next.length || props.required ? next : undefined);
  };
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)} group=${true}>${() => html`
    <div class="choices">${options.map((option, position) => html`<label class="choice">
      <input type="checkbox" id=${`${id}-${position}`} disabled=${form.disabled}
        checked=${chosen.some((entry) => equal(entry, option.value))}
        onChange=${(event) => toggle(option, event.target.checked)} />
      <span>${option.label}</span>
    </label>`)}</div>`}<//>`;
}

function ObjectField(props) {
  const { form, field, path, value, root } = props;
  const current = typeOf(value) === "object" ? value : {};
  const fields = Object.entries(field.properties).map(([name, property]) => html`
    <${Field} key=${name} form=${form} node=${property} path=${[...path, name]} value=${current[name]} name=${name}
      required=${field.required.has(name)} />`);
  if (root) {
    const errors = messagesAt(form.errors, path);
    return html`${errors.length > 0 && html`<p class="field-error" role="alert">${errors.join(" ")}</p>`}${fields}`;
  }
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)} group=${true}>${() => fields}<//>`;
}

function ArrayField(props) {
  const { form, field, path, value, title } = props;
  const entries = Array.isArray(value) ? value : [];
  const item = view(form.schema, itemSchema(field, entries.length) ?? true, undefined);
  if (field.uniqueItems && choices(form.schema, item)) {
    return html`<${MultiChoice} ...${props} item=${item} />`;
  }
  const canAdd = itemSchema(field, entries.length) !== false && entries.length < (field.maxItems ?? Infinity);
  const canRemove = entries.length > (field.minItems ?? 0);
  const itemTitle = item.title || title; // of the entry Add would make
  const titleAt = (index) => view(form.schema, itemSchema(field, index) ?? true, undefined).title || title;
  const add = () => form.set(path, [...entries, itemStart(form.schema, field, entries.length)]);
  const remove = (index) => {
    const rest = entries.filter((_, position) => position !== index);
    form.set(path, rest.length || props.required ? rest : undefined);
  };
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)} group=${true}>${() => html`
    <ol class="entries">${entries.map((entry, index) => html`<li key=${index}>
      <${Field} form=${form} node=${itemSchema(field, index) ?? true} path=${[...path, index]} value=${entry}
        itemLabel=${`${titleAt(index)} ${index + 1}`} />
      ${canRemove && html`<button type="button" class="small remove" disabled=${form.disabled}
        onClick=${() => remove(index)}>Remove ${titleAt(index).toLowerCase()} ${index + 1}</button>`}
    </li>`)}</ol>
    ${canAdd && html`<button type="button" class="small" disabled=${form.disabled} onClick=${add}
      id=${`${props.id}-add`}>Add ${entries.length ? "another " : ""}${itemTitle.toLowerCase()}</button>`}`}<//>`;
}

/* Which part of a oneOf or anyOf of shapes a value is: the one whose fields hold most of its fields, valid ones
   first (a draft reopened, a report read back); null for no value. */
function chosenAlternative(schema, field, value) {
  if (value === undefined) return null;
  const keys = typeOf(value) === "object" ? Object.keys(value) : [];
  const scored = (field.oneOf || field.anyOf || []).map((part, index) => {
    const known = Object.keys(view(schema, part, value).properties);
    const overlap = keys.filter((key) => known.includes(key)).length;
    return { part, index, score: (schema.isValid(part, value) ? 1000 : 0) + overlap };
  });
  return scored.sort((one, two) => two.score - one.score || one.index - two.index)[0] || null;
}

/* oneOf or anyOf of shapes (not of values): the officer picks which, and its fields follow. */
function Alternatives(props) {
  const { form, field, path, value, node, id } = props;
  const all = field.oneOf || field.anyOf;
  const [picked, setPicked] = useState(null); // what the officer chose here; before that, what the value looks like
  const chosen = picked !== null && value !== undefined ? { part: all[picked], index: picked }
    : chosenAlternative(form.schema, field, value);
  const named = (part, index) => view(form.schema, part, undefined).title || `Option ${index + 1}`;
  const pick = (event) => {
    const index = Number(event.target.value);
    setPicked(index < 0 ? null : index);
    form.set(path, index < 0 ? emptyAs(path) : initial(form.schema, all[index]) ?? {});
  };
  return html`<${Labelled} ...${props} errors=${messagesAt(form.errors, path)} group=${true}>${() => html`
    <label for=${`${id}-which`}>Which</label>
    <select id=${`${id}-which`} disabled=${form.disabled} onChange=${pick}>
      <option value="-1" selected=${chosen === null}>Choose…</option>
      ${all.map((part, index) => html`<option value=${index} selected=${chosen?.index === index}>${
        named(part, index)}</option>`)}
    </select>
    ${chosen && html`<${Field} form=${form} path=${path} value=${value} itemLabel=${named(chosen.part, chosen.index)}
      node=${node} picked=${chosen.part} />`}`}<//>`;
}

const WIDGETS = {
  text: TextField, "long-text": TextField, email: TextField, time: TextField, date: DateField,
  "date-time": DateTimeField, integer: NumberField, number: NumberField, boolean: BooleanField,
  choice: ChoiceField, const: ConstField,
};

/* ---- reading the answers back ------------------------------------------------------------------------------- */

/* Each field's title and its value as text, for the outbox, a conflict and a report read back (nested fields as
   "People involved 1 · Name"). */
export function describe(schema, data) {
  const rows = [];
  const walk = (node, path, value, title, picked) => {
    const { field, shape } = fieldOf(schema, node, value, picked);
    if (shape === "alternatives") {
      const chosen = chosenAlternative(schema, field, value);
      if (chosen) walk(node, path, value, title, chosen.part);
      return;
    }
    if (shape === "object" && typeOf(value) === "object") {
      for (const [name, property] of Object.entries(field.properties)) {
        if (!(name in value)) continue;
        const child = view(schema, property, value[name]).title || label(name);
        walk(property, [...path, name], value[name], title ? `${title} · ${child}` : child);
      }
      return;
    }
    if (shape === "array" && Array.isArray(value) && value.some((item) => ["object", "array"].includes(typeOf(item)))) {
      value.forEach((item, index) => walk(itemSchema(field, index) ?? true, [...path, index], item,
        `${title} ${index + 1}`));
      return;
    }
    rows.push({ path: path.join("."), title, text: shownValue(schema, field, value) });
  };
  walk(schema.root, [], data, "");
  return rows;
}

function shownValue(schema, field, value) {
  const options = choices(schema, field);
  const option = options?.find((entry) => equal(entry.value, value));
  if (option) return option.label;
  if (Array.isArray(value)) return value.map((item) => shownValue(schema, view(schema, field.items ?? true, item),
    item)).join(", ");
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (field.format === "date-time" && typeof value === "string" && localInput(value)) {
    return dateAndTime(value);
  }
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
