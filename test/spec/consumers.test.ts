import { describe, expect, test } from 'vitest';
import {
  checkDeepImageJ,
  checkIlastik,
  checkWriteProfile,
  type Issue,
  type ModelDescr,
  memorySource,
  parseModelDescription,
  validatePackage,
} from '../../spec/index.js';
import {
  BASE_VARIANT,
  buildFixture,
  type Json,
  rdfYaml,
  resolveHashes,
  type Variant,
} from './helpers/model-fixture.js';
import { onnxModelBytes } from './helpers/onnx-bytes.js';

function descr(edit: (d: Json) => void = () => {}, v: Variant = BASE_VARIANT): ModelDescr {
  const d = resolveHashes(buildFixture(v));
  edit(d);
  const r = parseModelDescription(d);
  if (!r.descr) throw new Error(`fixture does not pass the schema: ${JSON.stringify(r.issues)}`);
  return r.descr;
}
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error');

describe('checkIlastik', () => {
  test('our export shape (b,c,z,y,x in and out, torchscript) has no errors or warnings', () => {
    expect(checkIlastik(descr())).toEqual([]);
  });

  test.each<[string, (d: Json) => void, string]>([
    [
      'ONNX-only weights',
      (d) => {
        delete d.weights.torchscript;
      },
      '/weights',
    ],
    ['two inputs', (d) => d.inputs.push({ ...d.inputs[0], id: 'mask' }), '/inputs'],
    ['two outputs', (d) => d.outputs.push({ ...d.outputs[0], id: 'second' }), '/outputs'],
    [
      'no batch axis',
      (d) => {
        d.inputs[0].axes.shift();
        d.outputs[0].axes.shift();
      },
      '/inputs/0/axes',
    ],
    [
      'custom axis id',
      (d) => {
        d.inputs[0].axes[2].id = 'depth';
        d.outputs[0].axes[2].id = 'depth';
        d.outputs[0].axes[2].size.axis_id = 'depth';
      },
      '/inputs/0/axes/2/id',
    ],
    [
      'channel axis not named channel',
      (d) => {
        d.outputs[0].axes[1].id = 'classes';
      },
      '/outputs/0/axes/1/id',
    ],
    [
      'output axes in another order',
      (d) => {
        const o = d.outputs[0].axes;
        [o[3], o[4]] = [o[4], o[3]];
      },
      '/outputs/0/axes',
    ],
    [
      'output without channel axis',
      (d) => {
        d.outputs[0].axes.splice(1, 1);
      },
      '/outputs/0/axes',
    ],
    [
      'data-dependent output size',
      (d) => {
        d.outputs[0].axes[2] = { type: 'index', id: 'z', size: { min: 1 } };
      },
      '/outputs/0/axes/2/size',
    ],
  ])('%s → error', (_name, edit, path) => {
    expect(errors(checkIlastik(descr(edit)))).toContainEqual(
      expect.objectContaining({ code: 'ilastik', path }),
    );
  });

  test('returns every violation at once', () => {
    const found = errors(
      checkIlastik(
        descr((d) => {
          delete d.weights.torchscript;
          d.outputs[0].axes[1].id = 'classes';
          d.outputs.push({ ...d.outputs[0], id: 'second' });
        }),
      ),
    );
    expect(found.map((i) => i.path)).toEqual(
      expect.arrayContaining(['/weights', '/outputs', '/outputs/0/axes/1/id', '/outputs/1/axes/1/id']),
    );
  });

  test('fields newer than 0.5.4 are warnings for ilastik and errors for what we write', () => {
    const d = descr((x) => {
      x.version_comment = 'retrained';
      x.outputs[0].postprocessing = [{ id: 'softmax', kwargs: { axis: 'channel' } }];
    });
    const il = checkIlastik(d).filter((i) => i.code === 'newer-field');
    expect(il.map((i) => [i.path, i.severity])).toEqual([
      ['/version_comment', 'warning'],
      ['/outputs/0/postprocessing/0', 'warning'],
    ]);
    expect(errors(checkWriteProfile(d)).map((i) => i.path)).toEqual([
      '/version_comment',
      '/outputs/0/postprocessing/0',
    ]);
    expect(checkWriteProfile(descr())).toEqual([]);
    expect(checkWriteProfile(descr((x) => (x.format_version = '0.5.3')))).toContainEqual(
      expect.objectContaining({ path: '/format_version' }),
    );
  });
});

describe('checkDeepImageJ', () => {
  test('our export shape has no errors', () => {
    expect(errors(checkDeepImageJ(descr(), { rdfName: 'rdf.yaml' }))).toEqual([]);
  });

  test.each<[string, (d: Json) => void, string]>([
    [
      'opset above 18 in the description',
      (d) => (d.weights.onnx.opset_version = 19),
      '/weights/onnx/opset_version',
    ],
    [
      'space axis without id',
      (d) => {
        delete d.inputs[0].axes[4].id;
      },
      '/inputs/0/axes/4',
    ],
    [
      'softmax postprocessing',
      (d) => (d.outputs[0].postprocessing = [{ id: 'softmax', kwargs: { axis: 'channel' } }]),
      '/outputs/0/postprocessing/0/id',
    ],
    [
      'scale_mean_variance postprocessing',
      (d) =>
        (d.outputs[0].postprocessing = [{ id: 'scale_mean_variance', kwargs: { reference_tensor: 'raw' } }]),
      '/outputs/0/postprocessing/0/id',
    ],
    [
      'input without test or sample tensor',
      (d) => {
        delete d.inputs[0].test_tensor;
        delete d.inputs[0].sample_tensor;
      },
      '/inputs/0',
    ],
    [
      'no weights it can run',
      (d) => {
        d.weights = { tensorflow_js: { source: 'model.zip', tensorflow_version: '2.15' } };
      },
      '/weights',
    ],
    [
      'tiling disabled with min/step axes',
      (d) => (d.config = { deepimagej: { allow_tiling: false } }),
      '/inputs/0/axes/2/size',
    ],
  ])('%s → error', (_name, edit, path) => {
    expect(errors(checkDeepImageJ(descr(edit)))).toContainEqual(
      expect.objectContaining({ code: 'deepimagej', path }),
    );
  });

  test('the opset is read from the .onnx bytes and must match the description', () => {
    const d = descr();
    const ok = new Map([['model.onnx', onnxModelBytes([{ domain: '', version: 17 }])]]);
    expect(errors(checkDeepImageJ(d, { files: ok }))).toEqual([]);
    const newer = new Map([['model.onnx', onnxModelBytes([{ domain: '', version: 20 }])]]);
    const found = errors(checkDeepImageJ(d, { files: newer })).map((i) => i.message);
    expect(found).toEqual([
      expect.stringMatching(/differs from the opset 20/),
      expect.stringMatching(/opset 20 > 18/),
    ]);
    const garbage = new Map([['model.onnx', new TextEncoder().encode('not onnx')]]);
    expect(errors(checkDeepImageJ(d, { files: garbage }))).toContainEqual(
      expect.objectContaining({ path: '/weights/onnx/source' }),
    );
  });

  test('rdf.yaml must be the description name', () => {
    expect(errors(checkDeepImageJ(descr(), { rdfName: 'bioimageio.yaml' }))).toContainEqual(
      expect.objectContaining({ path: '' }),
    );
  });

  test('pytorch_state_dict only is a warning (optional Python env)', () => {
    const d = descr(() => {}, { ...BASE_VARIANT, weights: ['pytorch_state_dict'] });
    const found = checkDeepImageJ(d);
    expect(errors(found)).toEqual([]);
    expect(found).toContainEqual(expect.objectContaining({ path: '/weights', severity: 'warning' }));
  });
});

describe('consumer rules through validatePackage', () => {
  test('run only when asked, on the package files', async () => {
    const fx = buildFixture(BASE_VARIANT);
    fx.files.set('model.onnx', onnxModelBytes([{ domain: '', version: 19 }]));
    fx.rdf.weights.onnx.opset_version = 19;
    delete fx.rdf.weights.torchscript;
    const source = memorySource({ ...Object.fromEntries(fx.files), 'rdf.yaml': rdfYaml(fx) });
    const plain = await validatePackage(source);
    expect(plain.report.ok).toBe(true);
    const both = await validatePackage(source, { consumers: ['ilastik', 'deepimagej'] });
    expect(both.report.checks.consumers).toEqual(['ilastik', 'deepimagej']);
    expect(both.report.errors.map((i) => i.code).sort()).toEqual(['deepimagej', 'ilastik']);
  });
});
