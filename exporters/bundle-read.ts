/**
 * weights/<id>/bundle.yaml → a typed Bundle, parsed once here at the edge: the YAML is validated
 * against spec/bundle.schema.json (the contract `emzoo export` writes), then every listed file must
 * exist. sha256s are checked when the files are streamed into the zip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as yaml from 'js-yaml';
import bundleSchema from '../spec/bundle.schema.json' with { type: 'json' };
import { ExportError } from './errors.js';

export type Task = 'lsd' | 'synful' | 'synister' | 'micron';
export type Triple = readonly [number, number, number];

export interface Person {
  readonly name: string;
  readonly github_user?: string;
  readonly affiliation?: string;
  readonly email?: string;
  readonly orcid?: string;
}

type Errors = { readonly max_abs: number; readonly max_rel: number };

/** bundle.yaml as spec/bundle.schema.json defines it (only the fields the exporter reads). */
export interface BundleYaml {
  readonly bundle_format: 1;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly task: Task;
  readonly variant: string;
  readonly preset: string;
  readonly paper: boolean;
  readonly trained: boolean;
  readonly created: string;
  readonly authors: readonly Person[];
  readonly citations: readonly { readonly text: string; readonly doi?: string; readonly url?: string }[];
  readonly license: string;
  readonly architecture: {
    readonly class_path: string;
    readonly source: 'architecture.py';
    readonly callable: string;
    readonly kwargs: Record<string, unknown>;
    readonly parameter_count: number;
  };
  readonly input: {
    readonly name: string;
    readonly channel_names: readonly string[];
    readonly voxel_size_nm: Triple;
    readonly valid_size: { readonly min: Triple; readonly step: Triple };
    readonly preprocessing: { readonly kind: 'scale_linear'; readonly gain: number; readonly offset: number };
    readonly test_tensor: { readonly file: string; readonly shape: readonly number[] };
  };
  readonly output: {
    readonly name: string;
    readonly kind: 'dense' | 'classes';
    readonly channel_names: readonly string[];
    readonly halo?: Triple;
    readonly semantics: Record<string, unknown>;
    readonly test_tensor: { readonly file: string; readonly shape: readonly number[] };
  };
  readonly weights: {
    readonly onnx: { readonly file: string; readonly opset: number; readonly exporter: string };
    readonly torchscript: { readonly file: string; readonly torch_version: string };
    readonly state_dict: {
      readonly file: string;
      readonly architecture: string;
      readonly torch_version: string;
    };
  };
  readonly training: Record<string, unknown> | null;
  readonly roundtrip: {
    readonly tolerance_abs: number;
    /** Absent in earlier bundles, whose rule was |a − e| ≤ tolerance_abs. */
    readonly tolerance_rel?: number;
    readonly tolerance_scale?: number;
    readonly onnx: Errors;
    readonly torchscript: Errors;
    readonly state_dict: Errors;
    readonly sizes: readonly {
      batch: number;
      k: number;
      onnx_max_abs: number;
      torchscript_max_abs: number;
    }[];
  };
  /** Dense only: the same network with kwargs {pad_output: true} (output at the input's size). */
  readonly zoo_variant?: {
    readonly kind: 'padded-output';
    readonly kwargs: Record<string, unknown>;
    readonly weights: {
      readonly onnx: { readonly file: string; readonly opset: number; readonly exporter: string };
      readonly torchscript: { readonly file: string; readonly torch_version: string };
    };
    /** Earlier exports only: test_output.npy centred in a zero border; else derived when packaging. */
    readonly test_tensor?: { readonly file: string; readonly shape: readonly number[] };
    readonly roundtrip: {
      readonly onnx: Errors;
      readonly torchscript: Errors;
      readonly state_dict: Errors;
      readonly sizes: BundleYaml['roundtrip']['sizes'];
    };
  };
  readonly software: Record<string, string>;
  readonly files: Readonly<Record<string, string>>;
}

export interface Bundle extends BundleYaml {
  readonly dir: string; // absolute folder holding bundle.yaml
}

export const BUNDLE_FILES = [
  'model.onnx',
  'model.torchscript.pt',
  'state_dict.pt',
  'architecture.py',
  'test_input.npy',
  'test_output.npy',
] as const;

/** The zoo variant's weights (bundle-relative), present when bundle.yaml has `zoo_variant`. */
export const ZOO_FILES = ['zoo/model.onnx', 'zoo/model.torchscript.pt'] as const;

let validate: ValidateFunction | undefined;

function schemaProblems(data: unknown): string[] {
  if (validate === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s));
    validate = ajv.compile(bundleSchema);
  }
  const v = validate;
  if (v(data)) return [];
  return (v.errors ?? []).map(
    (e: ErrorObject) =>
      `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : ''}`,
  );
}

/** Reads and type-checks `<dir>/bundle.yaml`. Throws BundleNotFound / BundleInvalid. */
export function readBundle(dirArg: string): Bundle {
  const dir = resolve(dirArg);
  const path = join(dir, 'bundle.yaml');
  if (!existsSync(path)) {
    throw new ExportError('BundleNotFound', `no bundle.yaml in ${dir}`, {
      hint: 'pass a bundle folder (weights/<id>/) made by `.venv/bin/emzoo export --preset NAME --out DIR`',
    });
  }
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(path, 'utf8'), { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw invalid(path, [`not valid YAML: ${(err as Error).message}`]);
  }
  const problems = schemaProblems(raw);
  if (problems.length > 0) throw invalid(path, problems);
  const b = raw as BundleYaml;
  const zooTest = b.zoo_variant?.test_tensor?.file;
  const files = [
    ...BUNDLE_FILES,
    ...(b.zoo_variant !== undefined ? ZOO_FILES : []),
    ...(zooTest !== undefined ? [zooTest] : []),
  ];
  for (const f of files) if (!existsSync(join(dir, f))) problems.push(`listed file ${f} is missing`);
  // as `emzoo validate-bundle`: the folder name is the model id (weights/<id>/), zips are named after it
  if (b.id !== basename(dir)) problems.push(`id '${b.id}' differs from the folder name '${basename(dir)}'`);
  if (b.output.kind === 'dense' && b.output.halo === undefined) problems.push('dense output needs halo');
  if (problems.length > 0) throw invalid(path, problems);
  return { ...b, dir };
}

function invalid(path: string, details: string[]): ExportError {
  return new ExportError(
    'BundleInvalid',
    `${path} is not a valid bundle: ${details.slice(0, 6).join('; ')}`,
    {
      hint: 're-export it with `.venv/bin/emzoo export` (bundle.yaml must match spec/bundle.schema.json)',
      details,
    },
  );
}
