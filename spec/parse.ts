/**
 * The edge: rdf.yaml text → typed `ModelDescr` (0.5 shape), or the reasons why not.
 * 0.5.x is validated as the bundled schema's patch version (bioimageio.spec bumps the patch the
 * same way); 0.4.x is validated against the 0.4 schema and converted to 0.5.
 */

import * as yaml from 'js-yaml';
import { convertV04 } from './convert-v0-4.js';
import { type Issue, issue, pointer, SpecError, warning } from './errors.js';
import { type ModelDescr, SCHEMA_FORMAT_VERSION_0_4, SCHEMA_FORMAT_VERSION_0_5 } from './model.js';
import { validateSchema } from './schema-validate.js';

export interface ParsedDescription {
  /** Present only when the description passed the schema. */
  readonly descr: ModelDescr | undefined;
  readonly issues: readonly Issue[];
  /** `format_version` as written in the source. */
  readonly sourceFormatVersion: string | undefined;
}

/** YAML 1.2 core schema: timestamps stay strings (as the JSON schema expects), `.inf` is a number. */
export function parseYaml(text: string): unknown {
  try {
    return yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (cause) {
    throw new SpecError(
      'YamlParseError',
      `rdf.yaml is not valid YAML: ${(cause as Error).message}`,
      'Fix the YAML syntax (indentation, quoting).',
      { cause },
    );
  }
}

type Obj = Record<string, unknown>;

/**
 * Ajv's `number` excludes ±Infinity, pydantic's float accepts it (YAML `.inf`). Validate a copy
 * with infinities replaced by the largest finite doubles.
 */
function finiteForSchema(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v))
    return v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  if (Array.isArray(v)) return v.map(finiteForSchema);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, finiteForSchema(x)]));
  return v;
}

/** A three-part version above the bundled 0.5 schema's (e.g. 0.6.0). */
function isFutureVersion(fv: string): boolean {
  const parts = /^(\d+)\.(\d+)\.(\d+)$/.exec(fv);
  if (!parts) return false;
  const latest = SCHEMA_FORMAT_VERSION_0_5.split('.').map(Number);
  const v = parts.slice(1).map(Number);
  for (let i = 0; i < 3; i++) {
    if ((v[i] as number) !== (latest[i] as number)) return (v[i] as number) > (latest[i] as number);
  }
  return false;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** bioimageio.spec replaces ±inf in `data.range` by null (with a warning) before validating. */
function replaceInfiniteRanges(d: Obj, issues: Issue[]): void {
  for (const kind of ['inputs', 'outputs'] as const) {
    const tensors = d[kind];
    if (!Array.isArray(tensors)) continue;
    tensors.forEach((t, i) => {
      if (!isObj(t)) return;
      const datas = Array.isArray(t.data) ? t.data : [t.data];
      datas.forEach((data, j) => {
        if (!isObj(data) || !Array.isArray(data.range)) return;
        if (data.range.some((v) => typeof v === 'number' && !Number.isFinite(v))) {
          data.range = data.range.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
          const p = Array.isArray(t.data)
            ? pointer(kind, i, 'data', j, 'range')
            : pointer(kind, i, 'data', 'range');
          issues.push(
            warning('data', p, "replaced 'inf' in data.range by null", 'Write null for an open bound.'),
          );
        }
      });
    });
  }
}

export function parseModelDescription(raw: unknown): ParsedDescription {
  if (!isObj(raw)) {
    return {
      descr: undefined,
      sourceFormatVersion: undefined,
      issues: [
        issue(
          'schema',
          '',
          'the description is not a mapping',
          'rdf.yaml must be a YAML mapping with type: model.',
        ),
      ],
    };
  }
  const fv = raw.format_version;
  const sourceFormatVersion = typeof fv === 'string' ? fv : undefined;
  if (raw.type !== 'model') {
    return {
      descr: undefined,
      sourceFormatVersion,
      issues: [
        issue(
          'unsupported-format',
          '/type',
          `type is ${JSON.stringify(raw.type)}, not 'model'`,
          'Only model descriptions are supported here; set type: model.',
        ),
      ],
    };
  }
  // Deep copy: validation normalises in place.
  const data = structuredClone(raw) as Obj;
  const issues: Issue[] = [];
  if (typeof fv === 'string' && /^0\.4\.\d+$/.test(fv)) {
    data.format_version = SCHEMA_FORMAT_VERSION_0_4;
    const errs04 = validateSchema(finiteForSchema(data), '0.4');
    if (errs04.length > 0) return { descr: undefined, sourceFormatVersion, issues: errs04 };
    const { converted, issues: convIssues } = convertV04(data, SCHEMA_FORMAT_VERSION_0_5);
    issues.push(...convIssues);
    const errs05 = validateSchema(converted, '0.5').map((e) => ({
      ...e,
      code: 'conversion' as const,
      message: `after converting 0.4 to 0.5: ${e.message}`,
    }));
    if (errs05.length > 0) return { descr: undefined, sourceFormatVersion, issues: [...issues, ...errs05] };
    return {
      descr: { ...(converted as unknown as ModelDescr), format_version: fv },
      sourceFormatVersion,
      issues,
    };
  }
  if (typeof fv === 'string' && /^0\.5\.\d+$/.test(fv)) data.format_version = SCHEMA_FORMAT_VERSION_0_5;
  else if (typeof fv === 'string' && isFutureVersion(fv)) {
    // bioimageio.spec reads a newer format as its latest one, with a warning.
    issues.push(
      warning(
        'unsupported-format',
        '/format_version',
        `future format_version '${fv}' treated as '${SCHEMA_FORMAT_VERSION_0_5}'`,
        `Write format_version '0.5.4' (what we write) or at most '${SCHEMA_FORMAT_VERSION_0_5}'.`,
      ),
    );
    data.format_version = SCHEMA_FORMAT_VERSION_0_5;
  } else if (typeof fv === 'string' && /^0\.[0-3]\.\d+$/.test(fv)) {
    return {
      descr: undefined,
      sourceFormatVersion,
      issues: [
        issue(
          'unsupported-format',
          '/format_version',
          `format_version ${fv} is not supported (only 0.4.x and 0.5.x)`,
          'Convert it with `bioimageio update-format`.',
        ),
      ],
    };
  }
  replaceInfiniteRanges(data, issues);
  const errs = validateSchema(finiteForSchema(data), '0.5');
  if (errs.length > 0) return { descr: undefined, sourceFormatVersion, issues: [...issues, ...errs] };
  return {
    descr: { ...(data as unknown as ModelDescr), format_version: fv as string },
    sourceFormatVersion,
    issues,
  };
}

/** Parse rdf.yaml text; YAML syntax errors become one issue. */
export function parseModelDescriptionYaml(text: string): ParsedDescription {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const e = err as SpecError;
    return {
      descr: undefined,
      sourceFormatVersion: undefined,
      issues: [issue('yaml', '', e.message, e.hint)],
    };
  }
  return parseModelDescription(raw);
}
