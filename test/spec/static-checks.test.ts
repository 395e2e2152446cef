import { describe, expect, test } from 'vitest';
import { type Issue, type ModelDescr, parseModelDescription, staticChecks } from '../../spec/index.js';
import {
  BASE_VARIANT,
  buildFixture,
  type Json,
  resolveHashes,
  type Variant,
} from './helpers/model-fixture.js';

function descr(edit: (d: Json) => void = () => {}, v: Variant = BASE_VARIANT): ModelDescr {
  const d = resolveHashes(buildFixture(v));
  edit(d);
  const r = parseModelDescription(d);
  if (!r.descr) throw new Error(`fixture does not pass the schema: ${JSON.stringify(r.issues)}`);
  return r.descr;
}
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error');

describe('staticChecks', () => {
  test('a realistic description has no errors and no FAIR warnings', () => {
    const issues = staticChecks(descr());
    expect(errors(issues)).toEqual([]);
    expect(issues.filter((i) => i.code === 'fair' && !i.path.endsWith('sample_tensor'))).toEqual([]);
  });

  test.each<[string, (d: Json) => void, string, string]>([
    ['name with a dot', (d) => (d.name = 'UNet v1.2'), '/name', 'name'],
    ['tensor id not an identifier', (d) => (d.outputs[0].id = 'pre-diction'), '/outputs/0/id', 'id'],
    ['tensor id a Python keyword', (d) => (d.outputs[0].id = 'lambda'), '/outputs/0/id', 'id'],
    ['duplicate tensor ids', (d) => (d.outputs[0].id = 'raw'), '/outputs/0/id', 'tensor-ids'],
    ['duplicate axis ids', (d) => (d.inputs[0].axes[4].id = 'y'), '/inputs/0/axes/4', 'axes'],
    ['two batch axes', (d) => d.inputs[0].axes.splice(1, 0, { type: 'batch' }), '/inputs/0/axes', 'axes'],
    [
      'channel name starts with a digit',
      (d) => (d.outputs[0].axes[1].channel_names[2] = '3rd'),
      '/outputs/0/axes/1/channel_names/2',
      'id',
    ],
    [
      'reference to an unknown tensor',
      (d) => (d.outputs[0].axes[4].size.tensor_id = 'image'),
      '/outputs/0/axes/4/size',
      'axes',
    ],
    [
      'reference to an unknown axis',
      (d) => (d.outputs[0].axes[4].size.axis_id = 'w'),
      '/outputs/0/axes/4/size',
      'axes',
    ],
    [
      'reference to a batch axis',
      (d) => (d.outputs[0].axes[4].size.axis_id = 'batch'),
      '/outputs/0/axes/4/size',
      'axes',
    ],
    [
      'input references an output',
      (d) => (d.inputs[0].axes[4].size = { tensor_id: 'prediction', axis_id: 'channel' }),
      '/inputs/0/axes/4/size',
      'axes',
    ],
    ['units differ', (d) => (d.outputs[0].axes[3].unit = 'micrometer'), '/outputs/0/axes/3/size', 'axes'],
    [
      'halo too large for the minimum',
      (d) => (d.outputs[0].axes[4].halo = 8),
      '/outputs/0/axes/4/halo',
      'axes',
    ],
    [
      'halo not whole input pixels',
      (d) => Object.assign(d.outputs[0].axes[4], { scale: 4, halo: 3 }),
      '/outputs/0/axes/4/halo',
      'axes',
    ],
    ['per-channel data count', (d) => (d.outputs[0].data = [{ type: 'float32' }]), '/outputs/0/data', 'data'],
    [
      'per-channel types differ',
      (d) => (d.outputs[0].data = [{ type: 'float32' }, { type: 'float64' }, { type: 'float32' }]),
      '/outputs/0/data',
      'data',
    ],
    [
      'nominal values do not fit',
      (d) => (d.outputs[0].data = { type: 'uint8', values: [0, 300] }),
      '/outputs/0/data',
      'data',
    ],
    [
      'processing axes not in tensor',
      (d) => (d.inputs[0].preprocessing[0].kwargs.axes = ['t']),
      '/inputs/0/preprocessing/0/kwargs/axes',
      'processing',
    ],
    [
      'reference_tensor is an output',
      (d) =>
        (d.inputs[0].preprocessing = [{ id: 'scale_range', kwargs: { reference_tensor: 'prediction' } }]),
      '/inputs/0/preprocessing/0/kwargs/reference_tensor',
      'processing',
    ],
    [
      'scale_linear that does nothing',
      (d) => (d.inputs[0].preprocessing = [{ id: 'scale_linear', kwargs: { gain: 1 } }]),
      '/inputs/0/preprocessing/0/kwargs',
      'processing',
    ],
    [
      'clip without bounds',
      (d) => (d.outputs[0].postprocessing = [{ id: 'clip', kwargs: {} }]),
      '/outputs/0/postprocessing/0/kwargs',
      'processing',
    ],
    [
      'percentiles swapped',
      (d) =>
        (d.inputs[0].preprocessing = [
          { id: 'scale_range', kwargs: { min_percentile: 60, max_percentile: 40 } },
        ]),
      '/inputs/0/preprocessing/0/kwargs',
      'processing',
    ],
    [
      'weights parent missing',
      (d) => (d.weights.torchscript.parent = 'pytorch_state_dict'),
      '/weights/torchscript/parent',
      'weights',
    ],
    ['weights own parent', (d) => (d.weights.onnx.parent = 'onnx'), '/weights/onnx/parent', 'weights'],
    ['cite without doi or url', (d) => (d.cite = [{ text: 'x' }]), '/cite/0', 'fair'],
    ['author name with a slash', (d) => (d.authors[0].name = 'A/B'), '/authors/0/name', 'fair'],
    [
      'model is its own parent',
      (d) => Object.assign(d, { id: 'a-b', parent: { id: 'a-b' } }),
      '/parent/id',
      'id',
    ],
  ])('%s → error at its path', (_name, edit, path, code) => {
    const found = errors(staticChecks(descr(edit)));
    expect(found).toContainEqual(expect.objectContaining({ path, code, severity: 'error' }));
    for (const e of found) expect(e.hint).not.toBe('');
  });

  test.each<[string, (d: Json) => void, string]>([
    ['upper-case tensor id', (d) => (d.outputs[0].id = 'Prediction'), '/outputs/0/id'],
    ['deprecated SPDX id', (d) => (d.license = 'GPL-3.0'), '/license'],
    ['name over 64 characters', (d) => (d.name = 'n'.repeat(70)), '/name'],
    ['no description', (d) => delete d.description, '/description'],
    ['no maintainer and no github_user', (d) => (d.authors = [{ name: 'A B' }]), '/maintainers'],
    ['missing tag categories', (d) => (d.tags = ['unet']), '/tags'],
    ['two weights without parent', (d) => delete d.weights.torchscript.parent, '/weights'],
  ])('%s → warning only', (_name, edit, path) => {
    const issues = staticChecks(descr(edit));
    expect(errors(issues)).toEqual([]);
    expect(issues).toContainEqual(expect.objectContaining({ path, severity: 'warning' }));
  });

  test('returns every violation, not the first', () => {
    const issues = errors(
      staticChecks(
        descr((d) => {
          d.name = 'bad.name';
          d.cite = [{ text: 'no link' }];
          d.outputs[0].axes[4].halo = 8;
          d.weights.onnx.parent = 'onnx';
        }),
      ),
    );
    expect(issues.map((i) => i.code).sort()).toEqual(['axes', 'fair', 'name', 'weights']);
  });
});
