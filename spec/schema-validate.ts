/**
 * JSON-schema validation against the schemas generated from bioimageio.spec
 * (spec/schemas/generated, see spec/scripts/generate-rdf-schema.py), with Ajv's 2020-12 build.
 */

import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020Pkg from 'ajv/dist/2020.js';
import addFormatsPkg from 'ajv-formats';
import { type Issue, issue } from './errors.js';
import schema04 from './schemas/generated/model-0.4.json' with { type: 'json' };
import schema05 from './schemas/generated/model-0.5.json' with { type: 'json' };

// ajv and ajv-formats are CommonJS; under NodeNext the default import is the module object.
type AjvInstance = import('ajv').default;
type AjvCtor = new (opts: import('ajv').Options) => AjvInstance;
const Ajv2020 = ((Ajv2020Pkg as unknown as { default?: unknown }).default ?? Ajv2020Pkg) as AjvCtor;
const addFormats = ((addFormatsPkg as unknown as { default?: unknown }).default ?? addFormatsPkg) as (
  ajv: AjvInstance,
) => AjvInstance;

/** Python's datetime.fromisoformat: date, optional time, optional offset (naive times are fine). */
const ISO_DATETIME =
  /^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}([.,]\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

function isIsoDatetime(s: string): boolean {
  if (!ISO_DATETIME.test(s)) return false;
  return !Number.isNaN(Date.parse(`${s.slice(0, 10)}T00:00:00Z`));
}

type Schema = Record<string, unknown>;

/** A JSON-schema conditional (built from entries: a literal `then` key trips the thenable lint). */
function ifThenElse(cond: Schema, yes: Schema, no: Schema): Schema {
  return Object.fromEntries([
    ['if', cond],
    ['then', yes],
    ['else', no],
  ]);
}

/**
 * Make the pydantic schema work well with Ajv without changing what it accepts:
 * - OpenAPI `discriminator` objects carry a `mapping` Ajv does not support; drop it (Ajv derives
 *   the mapping from each branch's `const`).
 * - Unions of object models without a discriminator (tensor `data`, axis `size`, output space/time
 *   axes with and without `halo`) become if/then/else chains keyed on a required property unique
 *   to each branch. With additionalProperties:false on every model this accepts the same
 *   documents, and errors come from the one branch the document meant, not from all of them.
 */
function prepareSchema(schema: Schema): Schema {
  const defs = (schema.$defs ?? {}) as Record<string, Schema>;
  const resolve = (s: Schema): Schema => {
    const ref = s.$ref as string | undefined;
    return ref?.startsWith('#/$defs/') ? (defs[ref.slice(8)] ?? s) : s;
  };
  const props = (s: Schema): Record<string, Schema> =>
    (resolve(s).properties ?? {}) as Record<string, Schema>;
  const isObjectBranch = (s: Schema) => resolve(s).type === 'object';

  const conditional = (branches: Schema[]): Schema | undefined => {
    const objects = branches.filter(isObjectBranch);
    const others = branches.filter((b) => !isObjectBranch(b));
    if (objects.length < 2) return undefined;
    const keyed: [string | undefined, Schema][] = objects.map((b, i) => {
      const required = (resolve(b).required ?? []) as string[];
      const key = required.find((k) => objects.every((o, j) => j === i || !(k in props(o))));
      return [key, b];
    });
    const fallbacks = keyed.filter(([k]) => k === undefined);
    if (fallbacks.length > 1) return undefined;
    const ordered = [...keyed.filter(([k]) => k !== undefined), ...fallbacks];
    let chain: Schema = (ordered[ordered.length - 1] as [string | undefined, Schema])[1];
    for (let i = ordered.length - 2; i >= 0; i--) {
      const [k, b] = ordered[i] as [string, Schema];
      chain = ifThenElse({ required: [k] }, b, chain);
    }
    const other: Schema =
      others.length === 0
        ? { type: 'object' }
        : others.length === 1
          ? (others[0] as Schema)
          : { anyOf: others };
    const out: Schema = ifThenElse({ type: 'object' }, chain, other);
    // Keep a tag `const` shared by all object branches visible to an enclosing discriminator.
    const first = props(objects[0] as Schema);
    const tags: Record<string, Schema> = {};
    for (const [k, v] of Object.entries(first)) {
      if ('const' in v && objects.every((o) => props(o)[k]?.const === v.const)) tags[k] = { const: v.const };
    }
    if (Object.keys(tags).length > 0) {
      out.properties = tags;
      out.required = Object.keys(tags).filter((k) =>
        objects.every((o) => ((resolve(o).required ?? []) as string[]).includes(k)),
      );
    }
    return out;
  };

  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    const disc = out.discriminator as { propertyName?: string } | undefined;
    if (disc && typeof disc.propertyName === 'string' && Array.isArray(out.oneOf)) {
      const tag = disc.propertyName;
      const ok = (out.oneOf as Schema[]).every((b) => tag in props(b));
      if (ok) {
        out.discriminator = { propertyName: tag };
        return out;
      }
      delete out.discriminator;
    }
    for (const key of ['oneOf', 'anyOf'] as const) {
      if (!Array.isArray(out[key])) continue;
      const cond = conditional(out[key] as Schema[]);
      if (cond === undefined) continue;
      delete out[key];
      return Object.keys(out).length === 0 ? cond : { ...out, allOf: [cond] };
    }
    return out;
  };
  return walk(schema) as Schema;
}

function makeAjv(): AjvInstance {
  const ajv = new Ajv2020({ allErrors: true, discriminator: true, strictTypes: false, strictTuples: false });
  addFormats(ajv);
  ajv.addFormat('date-time', isIsoDatetime);
  // Paths are checked against the real file list later (semantic checks), not by shape here.
  ajv.addFormat('file-path', true);
  ajv.addFormat('path', true);
  // Pydantic leaves its own numeric bounds (Field(ge=…)) as plain keys; Python enforces them, so do we.
  const bound = (keyword: 'ge' | 'gt' | 'le' | 'lt', ok: (x: number, b: number) => boolean) =>
    ajv.addKeyword({
      keyword,
      schemaType: 'number',
      validate: (b: number, data: unknown) => typeof data !== 'number' || ok(data, b),
      error: { message: (cxt: { schema: unknown }) => `must be ${keyword} ${String(cxt.schema)}` },
    });
  bound('ge', (x, b) => x >= b);
  bound('gt', (x, b) => x > b);
  bound('le', (x, b) => x <= b);
  bound('lt', (x, b) => x < b);
  return ajv;
}

let ajv: AjvInstance | undefined;
const compiled = new Map<'0.5' | '0.4', ValidateFunction>();

/** Compiled on first use (the 0.5 schema takes about a second). */
function validator(version: '0.5' | '0.4'): ValidateFunction {
  let v = compiled.get(version);
  if (v === undefined) {
    ajv ??= makeAjv();
    v = ajv.compile(prepareSchema((version === '0.5' ? schema05 : schema04) as Schema) as AnySchemaObject);
    compiled.set(version, v);
  }
  return v;
}

/** Validate a (format-version-bumped) description; returns every schema violation. */
export function validateSchema(data: unknown, version: '0.5' | '0.4'): Issue[] {
  const v = validator(version);
  if (v(data)) return [];
  return reduceErrors(v.errors ?? []).map(toIssue);
}

/**
 * Ajv with allErrors reports every failed branch of every union. Keep the errors that explain a
 * failure: a union's (or conditional's) own "must match" only when nothing deeper was reported, and the
 * `null` branch of optional fields only when it is the sole complaint at that path.
 */
function reduceErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const composite = (e: ErrorObject) => e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if';
  const specific = (e: ErrorObject) => !composite(e);
  const kept = errors.filter((e) => {
    if (composite(e)) {
      return !errors.some((o) => specific(o) && o.instancePath.startsWith(e.instancePath));
    }
    if (e.keyword === 'type' && (e.params as { type?: string }).type === 'null') {
      return !errors.some((o) => o !== e && specific(o) && o.instancePath.startsWith(e.instancePath));
    }
    return true;
  });
  const seen = new Set<string>();
  return kept.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${e.message}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The values of the spec's discriminated unions, for hints (axes by `type`, processing by `id`). */
const DISCRIMINATOR_VALUES: Readonly<Record<string, string>> = {
  type: 'batch, channel, index, time, space',
  id: 'binarize, clip, ensure_dtype, fixed_zero_mean_unit_variance, scale_linear, scale_range, sigmoid, softmax, zero_mean_unit_variance (postprocessing also scale_mean_variance)',
};

function toIssue(e: ErrorObject): Issue {
  const p = e.params as Record<string, unknown>;
  let path = e.instancePath;
  let message = `${path || '/'} ${e.message ?? 'is invalid'}`;
  let hint = 'Check this field against the bioimage.io model spec (format 0.5).';
  switch (e.keyword) {
    case 'additionalProperties':
      path = `${path}/${String(p.additionalProperty)}`;
      message = `unknown field '${String(p.additionalProperty)}'`;
      hint = `Remove '${String(p.additionalProperty)}' (every node forbids extra keys; only 'config' takes free keys) or fix its spelling.`;
      break;
    case 'required':
      message = `${e.instancePath || '/'} is missing required field '${String(p.missingProperty)}'`;
      hint = `Add '${String(p.missingProperty)}'.`;
      break;
    case 'const':
      hint = `Use ${JSON.stringify(p.allowedValue)}.`;
      break;
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]) ?? [];
      hint =
        allowed.length > 12
          ? `Use one of the ${allowed.length} allowed values (e.g. ${allowed.slice(0, 5).map(String).join(', ')}).`
          : `Use one of: ${allowed.map(String).join(', ')}.`;
      break;
    }
    case 'discriminator': {
      const known = DISCRIMINATOR_VALUES[String(p.tag)];
      if (p.error === 'mapping') {
        message = `${e.instancePath}: unknown ${String(p.tag)} ${JSON.stringify(p.tagValue)}`;
        hint = known
          ? `Use one of: ${known}.`
          : `'${String(p.tag)}' must be one of the known values of this union.`;
      } else hint = `Give '${String(p.tag)}' as a string${known ? ` (${known})` : ''}.`;
      break;
    }
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'ge':
    case 'gt':
    case 'le':
    case 'lt':
      hint = `Change the value so that it ${e.message ?? 'fits the bound'}.`;
      break;
    case 'type':
      hint = `Give a value of type ${String(p.type)}.`;
      break;
    case 'pattern':
      hint = `Match the pattern ${String(p.pattern)}.`;
      break;
    case 'format':
      hint = `Give a valid ${String(p.format)} (e.g. dates as 2026-01-31T12:00:00).`;
      break;
  }
  return issue('schema', path, message, hint);
}
