/* Report forms' JSON Schemas (draft 2020-12), read the way the server reads them (reports/schemas.py and
   reports/schema_safety.py), so the phone can say what is wrong before anything is sent, and without signal.

   The server stays the judge: a report is checked again there, and its 400 names the fields the same way this
   module does ("age", "people_involved.0.name"; "" for the whole report). Both sides follow jsonschema 4's
   reading of draft 2020-12, including the paths it reports errors at, and the same four formats are checked
   (date, date-time, email, uuid; others are hints only, as on the server). tests/browser/test_schema_form.py runs
   this module in Chromium against the server's checker on a case for every keyword.

   No library: none of the JSON Schema validators for the browser comes as one ES module without a build step, and
   the publish check (schema_safety.py) keeps schemas to what this covers: $refs inside the schema only, no
   cycles, at most 2,000 parts with the $refs written out. */

/* Every keyword of draft 2020-12's vocabularies and what the phone does with it. "checked": before sending, as the
   server checks it; "form": it shapes the form (schema_form.js). The test holds this list to jsonschema's. */
export const KEYWORDS = {
  $schema: "ignored (the server checks against draft 2020-12)",
  $id: "ignored (only the schema itself may have one; nothing is fetched)",
  $anchor: "form and checked: a $ref to #name finds it",
  $dynamicAnchor: "form and checked: a $dynamicRef to #name finds it (one schema: no dynamic scope)",
  $ref: "form and checked: the schema it points to, beside the keywords next to it",
  $dynamicRef: "form and checked: as $ref",
  $defs: "form and checked: where $refs point",
  definitions: "form and checked: where older schemas' $refs point",
  $vocabulary: "ignored",
  $comment: "ignored (a note for the form's authors)",
  title: "form: the field's label",
  description: "form: the field's help text",
  default: "form: the value a new report starts with",
  examples: "form: the first is shown as the field's placeholder",
  deprecated: "form: the label says the field is no longer used",
  readOnly: "form: shown, not editable",
  writeOnly: "ignored (a report is written, then read by others)",
  type: "form and checked: the kind of field (text, number, yes/no, list, group)",
  enum: "form and checked: a choice of its values (radio buttons, or a list when there are many)",
  const: "form and checked: the one value, shown and filled in",
  multipleOf: "form and checked: the number field's step",
  maximum: "form and checked: the number field's max",
  exclusiveMaximum: "checked",
  minimum: "form and checked: the number field's min",
  exclusiveMinimum: "checked",
  maxLength: "form and checked: the text field takes no more",
  minLength: "form and checked: a required text field must not be empty",
  pattern: "checked (JavaScript's regular expressions; one it cannot read is left to the server)",
  format: "form and checked: date and date-time get the phone's date and time pickers, email its keyboard; "
    + "date, date-time, email and uuid are checked, as on the server",
  contentEncoding: "ignored (as on the server)",
  contentMediaType: "ignored (as on the server)",
  contentSchema: "ignored (as on the server)",
  maxItems: "form and checked: no Add button once reached",
  minItems: "form and checked: a new report starts with that many entries; none can be removed below it",
  uniqueItems: "form and checked: a list of choices becomes tick boxes",
  contains: "checked",
  minContains: "checked",
  maxContains: "checked",
  maxProperties: "checked",
  minProperties: "checked",
  required: "form and checked: the label says required",
  dependentRequired: "form and checked: the label says required once the field it depends on is filled in",
  properties: "form and checked: a field each, in order",
  patternProperties: "checked (the form only makes the fields in properties)",
  additionalProperties: "checked (the form only makes the fields in properties)",
  propertyNames: "checked",
  unevaluatedProperties: "checked",
  prefixItems: "form and checked: the list's first entries, each with its own field",
  items: "form and checked: each further entry of the list",
  unevaluatedItems: "checked",
  allOf: "form and checked: every part's fields, all of them checked",
  anyOf: "form and checked: a choice of its parts (a choice of values when each is a const)",
  oneOf: "form and checked: a choice of its parts (a choice of values when each is a const)",
  not: "checked",
  if: "form and checked: then's or else's fields appear as the answers meet if or not",
  then: "form and checked: see if",
  else: "form and checked: see if",
  dependentSchemas: "form and checked: its fields appear once the field it depends on is filled in",
};

const TYPE_NAMES = { integer: "a whole number", number: "a number", string: "text", boolean: "true or false",
  array: "a list", object: "an object with named fields", null: "null" };
const FORMAT_NAMES = { date: "a date such as 2026-06-03",
  "date-time": "a date and time with its offset, such as 2026-06-03T09:30:00+01:00", email: "an email address",
  uuid: "a UUID" };
const SHOWN = 60;

export function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value; // string, boolean, object
}

function isType(value, type) {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

export function equal(one, two) {
  if (one === two) return true;
  const kind = typeOf(one);
  if (kind !== typeOf(two) && !(isType(one, "number") && isType(two, "number"))) return false;
  if (kind === "array") return one.length === two.length && one.every((item, i) => equal(item, two[i]));
  if (kind === "object") {
    const keys = Object.keys(one);
    return keys.length === Object.keys(two).length && keys.every((key) => key in two && equal(one[key], two[key]));
  }
  return false;
}

/* ---- $ref ------------------------------------------------------------------------------------------------- */

function pointer(root, fragment) {
  let node = root;
  for (const raw of fragment.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~"); // the fragment was percent-decoded whole
    if (node === null || typeof node !== "object" || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

function anchors(node, found = {}) {
  if (Array.isArray(node)) node.forEach((item) => anchors(item, found));
  else if (node && typeof node === "object") {
    for (const keyword of ["$anchor", "$dynamicAnchor"]) {
      if (typeof node[keyword] === "string") found[node[keyword]] ??= node;
    }
    Object.values(node).forEach((value) => anchors(value, found));
  }
  return found;
}

/* A schema's $refs and $dynamicRefs, resolved within it (the publish check allows nothing else). */
export class Schema {
  constructor(root) {
    this.root = root;
    this.anchors = anchors(root);
  }

  target(reference) {
    if (typeof reference !== "string" || !reference.startsWith("#")) return undefined;
    const fragment = decodeURIComponent(reference.slice(1));
    if (fragment === "") return this.root;
    return fragment.startsWith("/") ? pointer(this.root, fragment) : this.anchors[fragment];
  }

  /* Every error in `value`, by field path, as the server's validation_errors gives them. */
  errors(value) {
    const found = {};
    for (const { path, message } of this.check(this.root, value, []).errors) {
      const text = path ? `${path}: ${message}` : message;
      const list = (found[path] ??= []);
      if (!list.includes(text)) list.push(text);
    }
    return found;
  }

  isValid(schema, value) {
    return this.check(schema, value, []).errors.length === 0;
  }

  /* {errors: [{path, message}]} for `value` at `path` under `schema`. */
  check(schema, value, path) {
    const result = { errors: [] };
    // jsonschema names a false schema's error by the place holding it, not the value's own (so does the server).
    if (schema === false) result.errors.push(at(path.slice(0, -1), `${shown(value)} is not allowed here.`));
    if (!isType(schema, "object")) return result;
    for (const [keyword, checkKeyword] of CHECKS) {
      if (keyword in schema) checkKeyword(this, schema, value, path, result);
    }
    return result;
  }
}

function at(path, message) {
  return { path: path.join("."), message };
}

function shown(value) {
  let text;
  if (typeof value === "string") text = `'${value}'`;
  else if (value === null) text = "null";
  else if (Array.isArray(value)) text = "a list";
  else if (typeof value === "object") text = "an object";
  else text = String(value);
  return text.length <= SHOWN ? text : `${text.slice(0, SHOWN)}…`;
}

function merge(into, from) {
  into.errors.push(...from.errors);
}

/* ---- patterns ----------------------------------------------------------------------------------------------- */

const compiled = new Map();

/* A pattern as a JavaScript RegExp, or null when JavaScript cannot read it (then only the server checks it). RE2's
   leading flags, (?i) and (?s), become the RegExp's. */
export function regex(pattern) {
  if (!compiled.has(pattern)) {
    let source = pattern;
    let flags = "u";
    const leading = /^\(\?([ims]+)\)/.exec(source);
    if (leading) {
      source = source.slice(leading[0].length);
      flags += leading[1];
    }
    let made = null;
    try {
      made = new RegExp(source, flags);
    } catch {
      made = null;
    }
    compiled.set(pattern, made);
  }
  return compiled.get(pattern);
}

function matches(pattern, text) {
  const made = regex(pattern);
  return made === null ? true : made.test(text);
}

/* ---- formats: the server's four ----------------------------------------------------------------------------- */

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year, month, day) {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= DAYS[month - 1] + (month === 2 && leap ? 1 : 0);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const FORMATS = {
  date: (text) => {
    const found = DATE.exec(text);
    return Boolean(found) && validDate(+found[1], +found[2], +found[3]);
  },
  "date-time": (text) => {
    const found = DATE_TIME.exec(text);
    if (!found || !validDate(+found[1], +found[2], +found[3])) return false;
    const [hour, minute, second] = [+found[4], +found[5], +found[6]];
    if (hour > 23 || minute > 59 || second > 59) return false;
    return !found[9] || (+found[10] <= 23 && +found[11] <= 59);
  },
  email: (text) => text.includes("@"),
  uuid: (text) => UUID.test(text),
};

/* ---- the keywords ------------------------------------------------------------------------------------------- */

const length = (text) => [...text].length; // code points, as Python's len()

function reference(keyword) {
  return (self, schema, value, path, result) => {
    const target = self.target(schema[keyword]);
    if (target === undefined) {
      result.errors.push(at([], "This report type's form cannot be checked: a $ref in it points to nothing."));
      return;
    }
    merge(result, self.check(target, value, path));
  };
}

function typeCheck(self, schema, value, path, result) {
  const wanted = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!wanted.some((type) => isType(value, type))) {
    result.errors.push(at(path, `${shown(value)} is not ${wanted.map((t) => TYPE_NAMES[t] || t).join(" or ")}.`));
  }
}

function bound(keyword, fails, says) {
  return (self, schema, value, path, result) => {
    if (isType(value, "number") && typeof schema[keyword] === "number" && fails(value, schema[keyword])) {
      result.errors.push(at(path, `${value} ${says} ${schema[keyword]}.`));
    }
  };
}

function multipleOf(self, schema, value, path, result) {
  const step = schema.multipleOf;
  if (!isType(value, "number") || typeof step !== "number") return;
  const quotient = value / step;
  const failed = Number.isInteger(step) ? value % step !== 0 : !Number.isInteger(quotient);
  if (failed) result.errors.push(at(path, `${value} is not a multiple of ${step}.`));
}

function textLength(keyword) {
  return (self, schema, value, path, result) => {
    if (typeof value !== "string") return;
    const limit = schema[keyword];
    if (keyword === "minLength" && length(value) < limit) {
      result.errors.push(at(path, limit === 1 ? "must not be empty." : `must be at least ${limit} characters long.`));
    } else if (keyword === "maxLength" && length(value) > limit) {
      result.errors.push(at(path, `must be at most ${limit} characters long.`));
    }
  };
}

function properties(self, schema, value, path, result) {
  if (!isType(value, "object") || !isType(schema.properties, "object")) return;
  for (const [name, subschema] of Object.entries(schema.properties)) {
    if (!(name in value)) continue;
    result.errors.push(...self.check(subschema, value[name], [...path, name]).errors);
  }
}

function patternProperties(self, schema, value, path, result) {
  if (!isType(value, "object")) return;
  for (const [pattern, subschema] of Object.entries(schema.patternProperties)) {
    for (const name of Object.keys(value)) {
      if (!matches(pattern, name)) continue;
      result.errors.push(...self.check(subschema, value[name], [...path, name]).errors);
    }
  }
}

function extras(schema, value) {
  const known = isType(schema.properties, "object") ? schema.properties : {};
  const patterns = Object.keys(isType(schema.patternProperties, "object") ? schema.patternProperties : {});
  return Object.keys(value).filter((name) => !(name in known) && !patterns.some((p) => matches(p, name)));
}

function additionalProperties(self, schema, value, path, result) {
  if (!isType(value, "object")) return;
  const additional = schema.additionalProperties;
  const names = extras(schema, value).sort();
  if (additional === false) {
    names.forEach((name) => result.errors.push(at([...path, name], "not a field of this report.")));
  } else if (isType(additional, "object")) {
    names.forEach((name) => result.errors.push(...self.check(additional, value[name], [...path, name]).errors));
  }
}

function unevaluatedProperties(self, schema, value, path, result) {
  if (!isType(value, "object")) return;
  const evaluated = self.evaluatedKeys(schema, value);
  const failing = Object.keys(value).filter((name) => !evaluated.has(name)
    && !self.isValid(schema.unevaluatedProperties, value[name]));
  // As the server names them (reports/schemas.py describe): each field the schema itself does not list.
  if (failing.length) {
    extras(schema, value).forEach((name) => result.errors.push(at([...path, name], "not a field of this report.")));
  }
}

function required(self, schema, value, path, result) {
  if (!isType(value, "object") || !Array.isArray(schema.required)) return;
  schema.required.filter((name) => !(name in value))
    .forEach((name) => result.errors.push(at([...path, name], "this field is required.")));
}

function dependentRequired(self, schema, value, path, result) {
  if (!isType(value, "object")) return;
  for (const [name, needed] of Object.entries(schema.dependentRequired)) {
    if (!(name in value)) continue;
    needed.filter((other) => !(other in value))
      .forEach((other) => result.errors.push(at(path, `'${other}' is a dependency of '${name}'`)));
  }
}

function dependentSchemas(self, schema, value, path, result) {
  if (!isType(value, "object")) return;
  for (const [name, subschema] of Object.entries(schema.dependentSchemas)) {
    if (name in value) merge(result, self.check(subschema, value, path));
  }
}

function propertyCount(keyword) {
  return (self, schema, value, path, result) => {
    if (!isType(value, "object")) return;
    const count = Object.keys(value).length;
    if (keyword === "minProperties" && count < schema.minProperties) {
      result.errors.push(at(path, `should have at least ${schema.minProperties} fields filled in.`));
    } else if (keyword === "maxProperties" && count > schema.maxProperties) {
      result.errors.push(at(path, `should have at most ${schema.maxProperties} fields filled in.`));
    }
  };
}

function propertyNames(self, schema, value, path, result) {
  if (!isType(value, "object")) return;
  for (const name of Object.keys(value)) result.errors.push(...self.check(schema.propertyNames, name, path).errors);
}

function prefixItems(self, schema, value, path, result) {
  if (!Array.isArray(value) || !Array.isArray(schema.prefixItems)) return;
  schema.prefixItems.forEach((subschema, index) => {
    if (index >= value.length) return;
    result.errors.push(...self.check(subschema, value[index], [...path, index]).errors);
  });
}

function items(self, schema, value, path, result) {
  if (!Array.isArray(value)) return;
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems.length : 0;
  if (value.length <= prefix) return;
  if (schema.items === false) {
    result.errors.push(at(path, `give at most ${prefix}.`));
    return;
  }
  for (let index = prefix; index < value.length; index += 1) {
    result.errors.push(...self.check(schema.items, value[index], [...path, index]).errors);
  }
}

function contains(self, schema, value, path, result) {
  if (!Array.isArray(value)) return;
  const least = schema.minContains ?? 1;
  const most = schema.maxContains ?? value.length;
  let count = 0;
  for (const item of value) {
    if (!self.isValid(schema.contains, item)) continue;
    count += 1;
    if (count > most) {
      result.errors.push(at(path, `too many entries of the kind asked for (at most ${most}).`));
      return;
    }
  }
  if (count < least) {
    result.errors.push(at(path, count ? `too few entries of the kind asked for (at least ${least}).`
      : "no entry of the kind asked for."));
  }
}

function unevaluatedItems(self, schema, value, path, result) {
  if (!Array.isArray(value)) return;
  const evaluated = self.evaluatedIndexes(schema, value);
  if (evaluated === true) return;
  const left = value.map((item, index) => index).filter((index) => !evaluated.has(index));
  if (left.length) result.errors.push(at(path, "has entries the form does not allow."));
}

function itemCount(keyword) {
  return (self, schema, value, path, result) => {
    if (!Array.isArray(value)) return;
    if (keyword === "minItems" && value.length < schema.minItems) {
      result.errors.push(at(path, `give at least ${schema.minItems}.`));
    } else if (keyword === "maxItems" && value.length > schema.maxItems) {
      result.errors.push(at(path, `give at most ${schema.maxItems}.`));
    }
  };
}

function uniqueItems(self, schema, value, path, result) {
  if (!Array.isArray(value) || !schema.uniqueItems) return;
  const twice = value.some((item, index) => value.slice(index + 1).some((other) => equal(item, other)));
  if (twice) result.errors.push(at(path, `${shown(value)} has non-unique elements`));
}

function allOf(self, schema, value, path, result) {
  schema.allOf.forEach((subschema) => merge(result, self.check(subschema, value, path)));
}

function anyOf(self, schema, value, path, result) {
  const valid = schema.anyOf.map((subschema) => self.check(subschema, value, path))
    .filter((checked) => checked.errors.length === 0);
  if (!valid.length) result.errors.push(at(path, `${shown(value)} is not valid under any of the given schemas`));
}

function oneOf(self, schema, value, path, result) {
  const valid = schema.oneOf.map((subschema) => self.check(subschema, value, path))
    .filter((checked) => checked.errors.length === 0);
  if (!valid.length) result.errors.push(at(path, `${shown(value)} is not valid under any of the given schemas`));
  else if (valid.length > 1) result.errors.push(at(path, `${shown(value)} matches more than one of the choices`));
}

function not(self, schema, value, path, result) {
  if (self.isValid(schema.not, value)) result.errors.push(at(path, `${shown(value)} should not be valid under ${
    JSON.stringify(schema.not)}`));
}

function ifThenElse(self, schema, value, path, result) {
  if (self.isValid(schema.if, value)) {
    if ("then" in schema) merge(result, self.check(schema.then, value, path));
  } else if ("else" in schema) {
    merge(result, self.check(schema.else, value, path));
  }
}

/* A value as the server's messages write it (Python's str()). */
function pythonText(value) {
  if (typeof value === "boolean") return value ? "True" : "False";
  return value === null ? "None" : String(value);
}

function enumCheck(self, schema, value, path, result) {
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => equal(option, value))) {
    result.errors.push(at(path, `${shown(value)} is not one of ${schema.enum.map(pythonText).join(", ")}.`));
  }
}

function constCheck(self, schema, value, path, result) {
  if (!equal(schema.const, value)) result.errors.push(at(path, `must be ${shown(schema.const)}.`));
}

function format(self, schema, value, path, result) {
  const check = FORMATS[schema.format];
  if (typeof value === "string" && check && !check(value)) {
    result.errors.push(at(path, `${shown(value)} is not ${FORMAT_NAMES[schema.format]}.`));
  }
}

function pattern(self, schema, value, path, result) {
  if (typeof value === "string" && typeof schema.pattern === "string" && !matches(schema.pattern, value)) {
    result.errors.push(at(path, `${shown(value)} does not have the expected form.`));
  }
}

// Which keyword is checked first does not matter: each reports its own errors.
const CHECKS = [
  ["$ref", reference("$ref")], ["$dynamicRef", reference("$dynamicRef")],
  ["type", typeCheck], ["enum", enumCheck], ["const", constCheck], ["format", format], ["pattern", pattern],
  ["minLength", textLength("minLength")], ["maxLength", textLength("maxLength")],
  ["minimum", bound("minimum", (v, l) => v < l, "is less than the minimum of")],
  ["maximum", bound("maximum", (v, l) => v > l, "is greater than the maximum of")],
  ["exclusiveMinimum", bound("exclusiveMinimum", (v, l) => v <= l, "is less than or equal to the minimum of")],
  ["exclusiveMaximum", bound("exclusiveMaximum", (v, l) => v >= l, "is greater than or equal to the maximum of")],
  ["multipleOf", multipleOf],
  ["required", required], ["dependentRequired", dependentRequired],
  ["minProperties", propertyCount("minProperties")], ["maxProperties", propertyCount("maxProperties")],
  ["properties", properties], ["patternProperties", patternProperties], ["additionalProperties", additionalProperties],
  ["propertyNames", propertyNames], ["dependentSchemas", dependentSchemas],
  ["prefixItems", prefixItems], ["items", items], ["contains", contains],
  ["minItems", itemCount("minItems")], ["maxItems", itemCount("maxItems")], ["uniqueItems", uniqueItems],
  ["allOf", allOf], ["anyOf", anyOf], ["oneOf", oneOf], ["not", not], ["if", ifThenElse],
  ["unevaluatedProperties", unevaluatedProperties], ["unevaluatedItems", unevaluatedItems],
];

/* The property names a schema evaluates, as jsonschema 4 counts them for unevaluatedProperties. */
Schema.prototype.evaluatedKeys = function evaluatedKeys(schema, value, found = new Set()) {
  if (!isType(schema, "object")) return found;
  for (const keyword of ["$ref", "$dynamicRef"]) {
    const target = keyword in schema ? this.target(schema[keyword]) : undefined;
    if (target !== undefined) this.evaluatedKeys(target, value, found);
  }
  if (isType(schema.properties, "object")) {
    Object.keys(schema.properties).filter((name) => name in value).forEach((name) => found.add(name));
  }
  for (const keyword of ["additionalProperties", "unevaluatedProperties"]) {
    if (!(keyword in schema)) continue;
    Object.keys(value).filter((name) => this.isValid(schema[keyword], value[name])).forEach((n) => found.add(n));
  }
  if (isType(schema.patternProperties, "object")) {
    const patterns = Object.keys(schema.patternProperties);
    Object.keys(value).filter((name) => patterns.some((p) => matches(p, name))).forEach((n) => found.add(n));
  }
  if (isType(schema.dependentSchemas, "object")) {
    Object.entries(schema.dependentSchemas).filter(([name]) => name in value)
      .forEach(([, subschema]) => this.evaluatedKeys(subschema, value, found));
  }
  for (const keyword of ["allOf", "oneOf", "anyOf"]) {
    (schema[keyword] || []).filter((subschema) => this.isValid(subschema, value))
      .forEach((subschema) => this.evaluatedKeys(subschema, value, found));
  }
  if ("if" in schema) {
    if (this.isValid(schema.if, value)) {
      this.evaluatedKeys(schema.if, value, found);
      if ("then" in schema) this.evaluatedKeys(schema.then, value, found);
    } else if ("else" in schema) {
      this.evaluatedKeys(schema.else, value, found);
    }
  }
  return found;
};

/* The item indexes a schema evaluates (true: all of them), as jsonschema 4 counts them for unevaluatedItems. */
Schema.prototype.evaluatedIndexes = function evaluatedIndexes(schema, value, found = new Set()) {
  if (!isType(schema, "object")) return found;
  if ("items" in schema) return true;
  const add = (more) => {
    if (more === true) return true;
    more.forEach((index) => found.add(index));
    return false;
  };
  for (const keyword of ["$ref", "$dynamicRef"]) {
    const target = keyword in schema ? this.target(schema[keyword]) : undefined;
    if (target !== undefined && add(this.evaluatedIndexes(target, value))) return true;
  }
  if (Array.isArray(schema.prefixItems)) schema.prefixItems.forEach((_, index) => found.add(index));
  if ("if" in schema) {
    const branches = this.isValid(schema.if, value) ? [schema.if, schema.then] : [schema.else];
    for (const branch of branches.filter((b) => b !== undefined)) {
      if (add(this.evaluatedIndexes(branch, value))) return true;
    }
  }
  for (const keyword of ["contains", "unevaluatedItems"]) {
    if (keyword in schema) {
      value.forEach((item, index) => { if (this.isValid(schema[keyword], item)) found.add(index); });
    }
  }
  for (const keyword of ["allOf", "oneOf", "anyOf"]) {
    for (const subschema of (schema[keyword] || []).filter((s) => this.isValid(s, value))) {
      if (add(this.evaluatedIndexes(subschema, value))) return true;
    }
  }
  return found;
};
