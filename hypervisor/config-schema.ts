// The checker for config-schema.json: the JSON Schema subset that file uses (type, enum,
// properties, required, additionalProperties: false, items, minItems/maxItems, minLength/maxLength,
// minimum/maximum, pattern, anyOf, $ref to #/$defs). The schema is the one description of the
// file's shape; config.ts adds the rules a schema cannot state. `x-expected` is our annotation:
// the wording used when an anyOf or enum does not match ("a hex string like ...").
import { readFileSync } from 'node:fs';

export type Schema = { [k: string]: unknown };

export const configSchema: Schema = JSON.parse(readFileSync(new URL('./config-schema.json', import.meta.url), 'utf8'));

/** The first way `value` breaks `schema`: where (a JSON path relative to the value) and what. */
export interface SchemaIssue {
  path: string;
  message: string;
}

export function checkSchema(schema: Schema, value: unknown, root: Schema = configSchema): SchemaIssue | undefined {
  return check(resolve(schema, root), value, '', root);
}

/** The schema at "#/$defs/<name>". */
export function schemaDef(name: string, root: Schema = configSchema): Schema {
  const d = (root.$defs as Record<string, Schema> | undefined)?.[name];
  if (!d) throw new Error(`config-schema.json has no $defs/${name}`);
  return d;
}

function resolve(s: Schema, root: Schema): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string') return s;
  const m = /^#\/\$defs\/(\w+)$/.exec(ref);
  if (!m) throw new Error(`config-schema.json: unsupported $ref ${ref}`);
  return resolve(schemaDef(m[1]!, root), root);
}

const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function check(s: Schema, v: unknown, path: string, root: Schema): SchemaIssue | undefined {
  const issue = (message: string): SchemaIssue => ({ path, message });
  if (Array.isArray(s.anyOf)) {
    const ok = (s.anyOf as Schema[]).some((alt) => check(resolve(alt, root), v, path, root) === undefined);
    return ok ? undefined : issue(`expected ${expected(s)}, got ${describe(v)}`);
  }
  if (Array.isArray(s.enum)) {
    if (s.enum.includes(v)) return undefined;
    const what = typeof s['x-expected'] === 'string' ? s['x-expected'] : 'an allowed value';
    const strings = s.enum.filter((e): e is string => typeof e === 'string');
    const near = typeof v === 'string' ? closest(v, strings) : undefined;
    return issue(`${describe(v)} is not ${what}${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${strings.join(', ')}`);
  }
  const type = s.type as string | undefined;
  if (type && !hasType(v, type)) return issue(`expected ${expected(s)}, got ${describe(v)}`);
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && v.length < s.minLength) return issue(s.minLength === 1 ? 'must not be empty' : `shorter than ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && v.length > s.maxLength) return issue(`longer than ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(v)) return issue(`expected ${expected(s)}, got ${describe(v)}`);
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) return issue(`${v} is less than ${s.minimum}`);
    if (typeof s.maximum === 'number' && v > s.maximum) return issue(`${v} is more than ${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) return issue(`needs at least ${s.minItems} ${s.minItems === 1 ? 'entry' : 'entries'}`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) return issue(`has ${v.length} entries, at most ${s.maxItems} allowed`);
    if (s.items) {
      const item = resolve(s.items as Schema, root);
      for (let i = 0; i < v.length; i++) {
        const r = check(item, v[i], join(path, i), root);
        if (r) return r;
      }
    }
  }
  if (isObject(v)) {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const known = Object.keys(props);
    if (s.additionalProperties === false) {
      for (const k of Object.keys(v)) {
        if (!(k in props)) {
          const near = closest(k, known);
          return issue(`unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ''}`);
        }
      }
    }
    for (const k of (s.required ?? []) as string[]) if (!(k in v)) return issue(`missing key "${k}"`);
    for (const k of known) {
      if (!(k in v)) continue;
      const r = check(resolve(props[k]!, root), v[k], join(path, k), root);
      if (r) return r;
    }
  }
  return undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      throw new Error(`config-schema.json: unsupported type ${type}`);
  }
}

function expected(s: Schema): string {
  if (typeof s['x-expected'] === 'string') return s['x-expected'];
  switch (s.type) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    default:
      return `a ${String(s.type)}`;
  }
}

/** A value as the error message shows it: short JSON, or its kind when long. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'an object';
  const j = JSON.stringify(v);
  return j.length > 40 ? `${j.slice(0, 37)}...` : j;
}

/**
 * The candidate nearest to `word` by edit distance, when near enough to be a typo. A prefix all
 * candidates share ("EMU_DEVICE_T_") is left out of the comparison.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let prefix = candidates[0] ?? '';
  for (const c of candidates) while (!c.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const w = (word.toLowerCase().startsWith(prefix.toLowerCase()) ? word.slice(prefix.length) : word).toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const tail = c.slice(prefix.length).toLowerCase();
    const d = editDistance(w, tail);
    if (d < bestD && d <= Math.max(1, Math.floor(Math.max(w.length, tail.length) / 3))) [best, bestD] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}
