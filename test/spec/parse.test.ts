import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  isSpecError,
  parseModelDescription,
  parseModelDescriptionYaml,
  parseYaml,
  SCHEMA_FORMAT_VERSION_0_5,
} from '../../spec/index.js';
import { BASE_VARIANT, buildFixture, type Json, rdfYaml, resolveHashes } from './helpers/model-fixture.js';

const valid = (): Json => resolveHashes(buildFixture(BASE_VARIANT));

describe('parseYaml', () => {
  test('keeps timestamps as strings and reads .inf as a number', () => {
    expect(parseYaml('t: 2026-01-31T12:00:00\nr: [-.inf, .inf]\nv: 0.5.4')).toEqual({
      t: '2026-01-31T12:00:00',
      r: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
      v: '0.5.4',
    });
  });
  test('throws a tagged YamlParseError on broken YAML', () => {
    let caught: unknown;
    try {
      parseYaml('a: [1, 2\nb: }');
    } catch (e) {
      caught = e;
    }
    expect(isSpecError(caught, 'YamlParseError')).toBe(true);
  });
});

describe('parseModelDescription (0.5)', () => {
  test('a realistic 0.5.4 description parses into typed values, format_version as written', () => {
    const r = parseModelDescriptionYaml(rdfYaml(buildFixture(BASE_VARIANT)));
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.descr?.format_version).toBe('0.5.4');
    expect(r.descr?.inputs[0]?.axes.map((a) => a.type)).toEqual([
      'batch',
      'channel',
      'space',
      'space',
      'space',
    ]);
  });

  test('any 0.5.x is validated as the schema patch version (like bioimageio.spec)', () => {
    for (const fv of ['0.5.0', '0.5.3', '0.5.4', SCHEMA_FORMAT_VERSION_0_5]) {
      expect(parseModelDescription({ ...valid(), format_version: fv }).descr?.format_version).toBe(fv);
    }
  });

  test('a future format version is read as the latest, with a warning', () => {
    const r = parseModelDescription({ ...valid(), format_version: '0.7.1' });
    expect(r.descr).toBeDefined();
    expect(r.issues).toContainEqual(
      expect.objectContaining({ severity: 'warning', path: '/format_version' }),
    );
  });

  test('inf in data.range becomes null with a warning', () => {
    const d = valid();
    d.outputs[0].data.range = [Number.NEGATIVE_INFINITY, 1];
    const r = parseModelDescription(d);
    expect(r.descr?.outputs[0]?.data).toEqual({ type: 'float32', range: [null, 1] });
    expect(r.issues).toContainEqual(
      expect.objectContaining({ severity: 'warning', path: '/outputs/0/data/range' }),
    );
  });

  test('does not modify its input', () => {
    const d = valid();
    const before = JSON.stringify(d);
    parseModelDescription({ ...d, format_version: '0.5.0' });
    expect(JSON.stringify(d)).toBe(before);
  });

  const mutate = (f: (d: Json) => void): Json => {
    const d = valid();
    f(d);
    return d;
  };
  test.each([
    ['not a mapping', [1, 2], '', 'schema'],
    ['not a model', mutate((d) => (d.type = 'dataset')), '/type', 'unsupported-format'],
    ['format 0.3', mutate((d) => (d.format_version = '0.3.6')), '/format_version', 'unsupported-format'],
    ['two-part version', mutate((d) => (d.format_version = '0.5')), '/format_version', 'schema'],
    ['missing name', mutate((d) => delete d.name), '', 'schema'],
    ['unknown key', mutate((d) => (d.weights.onnx.opset = 17)), '/weights/onnx/opset', 'schema'],
    ['axis type', mutate((d) => (d.inputs[0].axes[2].type = 'spaces')), '/inputs/0/axes/2', 'schema'],
    [
      'halo with int size',
      mutate((d) => (d.outputs[0].axes[4].size = 16)),
      '/outputs/0/axes/4/size',
      'schema',
    ],
    ['size min 0', mutate((d) => (d.inputs[0].axes[3].size.min = 0)), '/inputs/0/axes/3/size/min', 'schema'],
    ['opset 6', mutate((d) => (d.weights.onnx.opset_version = 6)), '/weights/onnx/opset_version', 'schema'],
    [
      'percentile bound (pydantic ge/le)',
      mutate((d) => (d.inputs[0].preprocessing = [{ id: 'scale_range', kwargs: { min_percentile: 100 } }])),
      '/inputs/0/preprocessing/0/kwargs/min_percentile',
      'schema',
    ],
    [
      'licence not an SPDX id (enum in the schema)',
      mutate((d) => (d.license = 'Apache 2')),
      '/license',
      'schema',
    ],
    ['bad timestamp', mutate((d) => (d.timestamp = '31.01.2026')), '/timestamp', 'schema'],
  ])('rejects %s at its path', (_name, doc, path, code) => {
    const r = parseModelDescription(doc);
    expect(r.descr).toBeUndefined();
    const errors = r.issues.filter((i) => i.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors).toContainEqual(expect.objectContaining({ path, code }));
    for (const e of errors) expect(e.hint.length).toBeGreaterThan(0);
  });

  test('reports every schema violation, not the first, without union noise', () => {
    const d = valid();
    d.name = 'abc';
    d.weights.onnx.opset_version = 6;
    d.inputs[0].axes[3].size = { min: 16, step: 0 };
    d.outputs[0].data.type = 'float16';
    const paths = parseModelDescription(d).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/name',
        '/weights/onnx/opset_version',
        '/inputs/0/axes/3/size/step',
        '/outputs/0/data/type',
      ]),
    );
    expect(paths.length).toBeLessThanOrEqual(5);
  });
});

describe('parseModelDescription (0.4 → 0.5)', () => {
  const zoo = readFileSync(
    join(import.meta.dirname, 'fixtures/zoo/unet2d_nuclei_broad.v0_4_9.rdf.yaml'),
    'utf8',
  );

  test('converts a real zoo 0.4.9 description', () => {
    const r = parseModelDescriptionYaml(zoo);
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const d = r.descr;
    expect(d?.format_version).toBe('0.4.9');
    expect(d?.inputs[0]).toMatchObject({
      id: 'raw',
      axes: [
        { type: 'batch' },
        { type: 'channel', channel_names: ['channel0'] },
        { type: 'space', id: 'y', size: 512 },
        { type: 'space', id: 'x', size: 512 },
      ],
      data: { type: 'float32', range: [null, null] },
      test_tensor: { source: 'test_input.npy' },
      preprocessing: [{ id: 'zero_mean_unit_variance', kwargs: { axes: ['y', 'x'] } }],
    });
    expect(d?.outputs[0]?.axes[2]).toEqual({
      type: 'space',
      id: 'y',
      size: { tensor_id: 'raw', axis_id: 'y', offset: 0 },
      halo: 32,
    });
    expect(d?.weights.pytorch_state_dict?.architecture).toMatchObject({
      source: 'unet2d.py',
      callable: 'UNet2d',
    });
    expect(d?.weights.onnx).toMatchObject({ opset_version: 20, parent: 'pytorch_state_dict' });
  });

  test("the conversion agrees with bioimageio.spec's own 0.4 → 0.5 conversion", () => {
    const py = spawnSync(
      join(process.cwd(), '.venv/bin/python'),
      [
        '-c',
        `import json, sys, warnings
warnings.simplefilter('ignore')
from loguru import logger
logger.remove()
from bioimageio.spec import load_description
d = load_description(sys.argv[1], perform_io_checks=False, format_version='latest')
print(json.dumps(d.model_dump(mode='json', exclude_none=True)))`,
        join(import.meta.dirname, 'fixtures/zoo/unet2d_nuclei_broad.v0_4_9.rdf.yaml'),
      ],
      { encoding: 'utf8', cwd: tmpdir() },
    );
    expect(py.status, py.stderr).toBe(0);
    const ref = JSON.parse(py.stdout) as Json;
    const ours = parseModelDescriptionYaml(zoo).descr as Json;
    const axes = (t: Json) =>
      t.axes.map((a: Json) => ({
        type: a.type,
        id: a.id ?? { batch: 'batch', channel: 'channel', space: 'x' }[a.type as string],
        size: a.size,
        halo: a.halo,
        channel_names: a.channel_names,
      }));
    const steps = (list: Json[] | undefined) =>
      (list ?? []).filter((p) => p.id !== 'ensure_dtype').map((p) => p.id);
    for (const kind of ['inputs', 'outputs'] as const) {
      expect(ours[kind].map(axes)).toEqual(ref[kind].map(axes));
      expect(ours[kind].map((t: Json) => steps(t.preprocessing ?? t.postprocessing))).toEqual(
        ref[kind].map((t: Json) => steps(t.preprocessing ?? t.postprocessing)),
      );
    }
    const weights = (w: Json) =>
      Object.fromEntries(
        Object.entries(w).map(([k, v]: [string, Json]) => [
          k,
          {
            parent: v.parent,
            opset: v.opset_version,
            torch: v.pytorch_version,
            arch: v.architecture?.callable,
          },
        ]),
      );
    expect(weights(ours.weights)).toEqual(weights(ref.weights));
  });

  test('0.4 fixed-mode normalisation becomes fixed_zero_mean_unit_variance; parameterized shapes become min/step', () => {
    const doc = parseYaml(zoo) as Json;
    doc.inputs[0].shape = { min: [1, 1, 64, 64], step: [0, 0, 16, 16] };
    doc.inputs[0].preprocessing = [
      { name: 'zero_mean_unit_variance', kwargs: { mode: 'fixed', mean: 0.5, std: 2, axes: 'yx' } },
    ];
    const d = parseModelDescription(doc).descr;
    expect(d?.inputs[0]?.axes[2]).toEqual({ type: 'space', id: 'y', size: { min: 64, step: 16 } });
    expect(d?.inputs[0]?.preprocessing).toEqual([
      { id: 'fixed_zero_mean_unit_variance', kwargs: { mean: 0.5, std: 2 } },
    ]);
  });

  test('0.4 schema errors point into the 0.4 document', () => {
    const doc = parseYaml(zoo) as Json;
    doc.inputs[0].data_type = 'float17';
    const r = parseModelDescription(doc);
    expect(r.descr).toBeUndefined();
    expect(r.issues).toContainEqual(expect.objectContaining({ path: '/inputs/0/data_type', code: 'schema' }));
  });
});
