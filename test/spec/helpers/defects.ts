/**
 * One defect each, applied to a valid fixture: schema-level ones (the JSON schema rejects them)
 * and semantic ones (bioimageio.spec's Python validators and IO checks reject them).
 */

import { writeTiff } from './image-write.js';
import { AUTO, type Fixture, type Json } from './model-fixture.js';
import { seededValues, writeNpy } from './npy-write.js';

export interface Defect {
  readonly name: string;
  readonly level: 'schema' | 'semantic';
  readonly apply: (fx: Fixture) => void;
}

const inp = (fx: Fixture): Json => fx.rdf.inputs[0];
const out = (fx: Fixture): Json => fx.rdf.outputs[0];
const spaceIn = (fx: Fixture, id: string): Json => inp(fx).axes.find((a: Json) => a.id === id);
const spaceOut = (fx: Fixture, id: string): Json => out(fx).axes.find((a: Json) => a.id === id);
const anyWeights = (fx: Fixture): Json => Object.values(fx.rdf.weights)[0];

/** Rewrite a test tensor with a new shape (values not near zero). */
function retensor(
  fx: Fixture,
  name: string,
  shape: number[],
  dtype: 'float32' | 'uint8' | 'float16' = 'float32',
  scale = 1,
): void {
  const n = shape.reduce((a, b) => a * b, 1);
  fx.files.set(name, writeNpy(seededValues(n, 5, 0.2 * scale, scale), shape, dtype));
}

function shapeOf(fx: Fixture, which: 'in' | 'out'): number[] {
  const axes = (which === 'in' ? inp(fx) : out(fx)).axes as Json[];
  const spatial = axes
    .filter((a) => a.type === 'space')
    .map((a) => ({ z: 12, y: 24, x: 16 })[a.id as 'z' | 'y' | 'x']);
  const ch = axes.find((a) => a.type === 'channel').channel_names.length;
  return [1, ch, ...spatial];
}

export const DEFECTS: readonly Defect[] = [
  // --- schema level ---
  { name: 'name missing', level: 'schema', apply: (fx) => delete fx.rdf.name },
  { name: 'name too short', level: 'schema', apply: (fx) => (fx.rdf.name = 'abc') },
  { name: 'name too long', level: 'schema', apply: (fx) => (fx.rdf.name = 'x'.repeat(129)) },
  { name: 'format_version two parts', level: 'schema', apply: (fx) => (fx.rdf.format_version = '0.5') },
  {
    name: 'unknown top-level key',
    level: 'schema',
    apply: (fx) => (fx.rdf.download_url = 'https://example.org/m.zip'),
  },
  { name: 'inputs empty', level: 'schema', apply: (fx) => (fx.rdf.inputs = []) },
  { name: 'outputs missing', level: 'schema', apply: (fx) => delete fx.rdf.outputs },
  { name: 'weights missing', level: 'schema', apply: (fx) => delete fx.rdf.weights },
  {
    name: 'unknown weights format',
    level: 'schema',
    apply: (fx) => (fx.rdf.weights.caffe = { source: 'model.onnx' }),
  },
  { name: 'sha256 wrong length', level: 'schema', apply: (fx) => (inp(fx).test_tensor.sha256 = 'abc123') },
  { name: 'axis type unknown', level: 'schema', apply: (fx) => (inp(fx).axes[0].type = 'bitch') },
  {
    name: 'channel axis without names',
    level: 'schema',
    apply: (fx) => delete inp(fx).axes[1].channel_names,
  },
  { name: 'channel names empty', level: 'schema', apply: (fx) => (out(fx).axes[1].channel_names = []) },
  {
    name: 'parameterized min 0',
    level: 'schema',
    apply: (fx) => (spaceIn(fx, 'x').size = { min: 0, step: 8 }),
  },
  {
    name: 'parameterized step 0',
    level: 'schema',
    apply: (fx) => (spaceIn(fx, 'y').size = { min: 16, step: 0 }),
  },
  { name: 'halo 0', level: 'schema', apply: (fx) => (spaceOut(fx, 'x').halo = 0) },
  {
    name: 'halo with fixed size',
    level: 'schema',
    apply: (fx) => Object.assign(spaceOut(fx, 'x'), { size: 16, halo: 2 }),
  },
  { name: 'batch size 2', level: 'schema', apply: (fx) => (inp(fx).axes[0].size = 2) },
  { name: 'data type float16', level: 'schema', apply: (fx) => (out(fx).data.type = 'float16') },
  { name: 'unknown key in tensor', level: 'schema', apply: (fx) => (inp(fx).shape = [1, 1, 16, 16]) },
  {
    name: 'unknown preprocessing',
    level: 'schema',
    apply: (fx) => (inp(fx).preprocessing = [{ id: 'normalize', kwargs: {} }]),
  },
  {
    name: 'scale_range max_percentile 0.5',
    level: 'schema',
    apply: (fx) => (inp(fx).preprocessing = [{ id: 'scale_range', kwargs: { max_percentile: 0.5 } }]),
  },
  {
    name: 'zero_mean_unit_variance eps 0',
    level: 'schema',
    apply: (fx) => (inp(fx).preprocessing = [{ id: 'zero_mean_unit_variance', kwargs: { eps: 0 } }]),
  },
  {
    name: 'cite doi malformed',
    level: 'schema',
    apply: (fx) => (fx.rdf.cite = [{ text: 'paper', doi: '11.1/abc' }]),
  },
  {
    name: 'author without name',
    level: 'schema',
    apply: (fx) => (fx.rdf.authors = [{ affiliation: 'Lab' }]),
  },
  { name: 'timestamp not a date', level: 'schema', apply: (fx) => (fx.rdf.timestamp = 'yesterday') },
  {
    name: 'tensor description too long',
    level: 'schema',
    apply: (fx) => (inp(fx).description = 'd'.repeat(129)),
  },
  { name: 'axis id too long', level: 'schema', apply: (fx) => (out(fx).axes[1].id = 'c'.repeat(17)) },
  {
    name: 'space unit not a length',
    level: 'schema',
    apply: (fx) => Object.assign(spaceIn(fx, 'x'), { unit: 'second' }),
  },
  { name: 'axis scale 0', level: 'schema', apply: (fx) => (spaceIn(fx, 'y').scale = 0) },
  {
    name: 'test tensor without source',
    level: 'schema',
    apply: (fx) => (out(fx).test_tensor = { sha256: AUTO }),
  },
  {
    name: 'binarize without threshold',
    level: 'schema',
    apply: (fx) => (out(fx).postprocessing = [{ id: 'binarize', kwargs: {} }]),
  },
  {
    name: 'fixed zmuv std 0',
    level: 'schema',
    apply: (fx) =>
      (inp(fx).preprocessing = [{ id: 'fixed_zero_mean_unit_variance', kwargs: { mean: 1, std: 0 } }]),
  },
  {
    name: 'opset_version 6',
    level: 'schema',
    apply: (fx) => {
      if (fx.rdf.weights.onnx) fx.rdf.weights.onnx.opset_version = 6;
      else anyWeights(fx).pytorch_version = 2;
    },
  },
  { name: 'weights entry without source', level: 'schema', apply: (fx) => delete anyWeights(fx).source },
  { name: 'id_emoji too long', level: 'schema', apply: (fx) => (fx.rdf.id_emoji = 'abc') },
  { name: 'git_repo not a url', level: 'schema', apply: (fx) => (fx.rdf.git_repo = 'not a url') },
  {
    name: 'author email invalid',
    level: 'schema',
    apply: (fx) => (fx.rdf.authors = [{ name: 'A B', email: 'not-an-email' }]),
  },
  { name: 'tags not a list', level: 'schema', apply: (fx) => (fx.rdf.tags = 'electron-microscopy') },
  {
    name: 'weights parent unknown format name',
    level: 'schema',
    apply: (fx) => (anyWeights(fx).parent = 'caffe'),
  },
  { name: 'config not a mapping', level: 'schema', apply: (fx) => (fx.rdf.config = ['a']) },
  // --- semantic (Python validators, IO checks) ---
  { name: 'name with slash', level: 'semantic', apply: (fx) => (fx.rdf.name = 'EM/membrane UNet') },
  { name: 'name with dot', level: 'semantic', apply: (fx) => (fx.rdf.name = 'EM membrane v1.2') },
  { name: 'cite without doi or url', level: 'semantic', apply: (fx) => (fx.rdf.cite = [{ text: 'paper' }]) },
  { name: 'author name with slash', level: 'semantic', apply: (fx) => (fx.rdf.authors = [{ name: 'A/B' }]) },
  { name: 'licence not SPDX', level: 'semantic', apply: (fx) => (fx.rdf.license = 'MIT-ish') },
  { name: 'tensor id not an identifier', level: 'semantic', apply: (fx) => (out(fx).id = 'pre-diction') },
  {
    name: 'channel name not an identifier',
    level: 'semantic',
    apply: (fx) => (out(fx).axes[1].channel_names[0] = '1st'),
  },
  {
    name: 'documentation suffix .txt',
    level: 'semantic',
    apply: (fx) => {
      fx.files.set('README.txt', new TextEncoder().encode('# Validation\n'));
      fx.rdf.documentation = 'README.txt';
    },
  },
  {
    name: 'cover suffix .bmp',
    level: 'semantic',
    apply: (fx) => {
      fx.files.set('cover.bmp', new Uint8Array([1, 2, 3]));
      fx.rdf.covers = ['cover.bmp'];
    },
  },
  { name: 'test input file missing', level: 'semantic', apply: (fx) => fx.files.delete('test_input.npy') },
  { name: 'test output file missing', level: 'semantic', apply: (fx) => fx.files.delete('test_output.npy') },
  {
    name: 'weights file missing',
    level: 'semantic',
    apply: (fx) => fx.files.delete(String(anyWeights(fx).source)),
  },
  {
    name: 'documentation file missing',
    level: 'semantic',
    apply: (fx) => {
      fx.rdf.documentation = 'README.md';
      fx.files.delete('README.md');
    },
  },
  {
    name: 'sha256 mismatch test input',
    level: 'semantic',
    apply: (fx) => (inp(fx).test_tensor.sha256 = '0'.repeat(64)),
  },
  {
    name: 'sha256 mismatch weights',
    level: 'semantic',
    apply: (fx) => (anyWeights(fx).sha256 = 'f'.repeat(64)),
  },
  {
    name: 'test input rank without batch',
    level: 'semantic',
    apply: (fx) => retensor(fx, 'test_input.npy', shapeOf(fx, 'in').slice(1)),
  },
  {
    name: 'test output rank extra dim',
    level: 'semantic',
    apply: (fx) => retensor(fx, 'test_output.npy', [1, ...shapeOf(fx, 'out')]),
  },
  {
    name: 'test input size not min+n*step',
    level: 'semantic',
    apply: (fx) => {
      const s = shapeOf(fx, 'in');
      s[s.length - 1] = 17;
      spaceIn(fx, 'x').size = { min: 16, step: 8 };
      retensor(fx, 'test_input.npy', s, inp(fx).data.type);
      const o = shapeOf(fx, 'out');
      o[o.length - 1] = 17;
      retensor(fx, 'test_output.npy', o);
    },
  },
  {
    name: 'test input size below min',
    level: 'semantic',
    apply: (fx) => {
      spaceIn(fx, 'y').size = { min: 32, step: 8 };
    },
  },
  {
    name: 'test output spatial size differs from reference',
    level: 'semantic',
    apply: (fx) => {
      const o = shapeOf(fx, 'out');
      o[o.length - 1] = 24;
      retensor(fx, 'test_output.npy', o);
    },
  },
  {
    name: 'test output channel count differs',
    level: 'semantic',
    apply: (fx) => {
      const o = shapeOf(fx, 'out');
      o[1] = (o[1] as number) + 1;
      retensor(fx, 'test_output.npy', o);
    },
  },
  {
    name: 'test input dtype float16',
    level: 'semantic',
    apply: (fx) => retensor(fx, 'test_input.npy', shapeOf(fx, 'in'), 'float16'),
  },
  {
    name: 'uint8 input with float32 test tensor',
    level: 'semantic',
    apply: (fx) => {
      inp(fx).data = { type: 'uint8' };
      inp(fx).preprocessing = [{ id: 'ensure_dtype', kwargs: { dtype: 'float32' } }];
      retensor(fx, 'test_input.npy', shapeOf(fx, 'in'), 'float32', 100);
    },
  },
  {
    name: 'test output near zero',
    level: 'semantic',
    apply: (fx) => retensor(fx, 'test_output.npy', shapeOf(fx, 'out'), 'float32', 5e-5),
  },
  {
    name: 'sample input is one 2D page for a 3D tensor',
    level: 'semantic',
    apply: (fx) => fx.files.set('sample_input.tif', writeTiff(1, 24, 16, seededValues(384, 2))),
  },
  {
    name: 'sample input unreadable',
    level: 'semantic',
    apply: (fx) => fx.files.set('sample_input.tif', new TextEncoder().encode('not a tiff')),
  },
  { name: 'sample input missing', level: 'semantic', apply: (fx) => fx.files.delete('sample_input.tif') },
  {
    name: 'test input not an npy file',
    level: 'semantic',
    apply: (fx) => fx.files.set('test_input.npy', new TextEncoder().encode('not numpy at all')),
  },
  {
    name: 'duplicate tensor ids',
    level: 'semantic',
    apply: (fx) => {
      out(fx).id = 'raw';
    },
  },
  { name: 'duplicate axis ids', level: 'semantic', apply: (fx) => (spaceIn(fx, 'x').id = 'y') },
  {
    name: 'space axis ids default twice',
    level: 'semantic',
    apply: (fx) => {
      delete spaceIn(fx, 'y').id;
    },
  },
  {
    name: 'two batch axes',
    level: 'semantic',
    apply: (fx) => {
      inp(fx).axes.splice(1, 0, { type: 'batch' });
    },
  },
  {
    name: 'size reference to unknown tensor',
    level: 'semantic',
    apply: (fx) => (spaceOut(fx, 'x').size.tensor_id = 'image'),
  },
  {
    name: 'size reference to unknown axis',
    level: 'semantic',
    apply: (fx) => (spaceOut(fx, 'x').size.axis_id = 'w'),
  },
  {
    name: 'size reference to batch axis',
    level: 'semantic',
    apply: (fx) => (spaceOut(fx, 'x').size.axis_id = 'batch'),
  },
  {
    name: 'size reference to itself',
    level: 'semantic',
    apply: (fx) => Object.assign(spaceIn(fx, 'x'), { size: { tensor_id: 'raw', axis_id: 'x' } }),
  },
  {
    name: 'size reference unit mismatch',
    level: 'semantic',
    apply: (fx) => Object.assign(spaceOut(fx, 'y'), { unit: 'micrometer' }),
  },
  { name: 'halo too large', level: 'semantic', apply: (fx) => (spaceOut(fx, 'x').halo = 8) },
  {
    name: 'halo not integer under scale',
    level: 'semantic',
    apply: (fx) => {
      Object.assign(spaceIn(fx, 'x'), { unit: 'nanometer', scale: 2 });
      Object.assign(spaceOut(fx, 'x'), { unit: 'nanometer', scale: 1, halo: 3 });
      const o = shapeOf(fx, 'out');
      o[o.length - 1] = 32;
      retensor(fx, 'test_output.npy', o);
    },
  },
  {
    name: 'preprocessing axes not in tensor',
    level: 'semantic',
    apply: (fx) =>
      (inp(fx).preprocessing = [{ id: 'zero_mean_unit_variance', kwargs: { axes: ['q', 'x'] } }]),
  },
  {
    name: 'reference_tensor not an input',
    level: 'semantic',
    apply: (fx) =>
      (inp(fx).preprocessing = [{ id: 'scale_range', kwargs: { reference_tensor: 'prediction' } }]),
  },
  {
    name: 'clip without bounds',
    level: 'semantic',
    apply: (fx) => (out(fx).postprocessing = [{ id: 'clip', kwargs: {} }]),
  },
  {
    name: 'clip min and min_percentile',
    level: 'semantic',
    apply: (fx) => (out(fx).postprocessing = [{ id: 'clip', kwargs: { min: 0, min_percentile: 1 } }]),
  },
  {
    name: 'scale_linear redundant',
    level: 'semantic',
    apply: (fx) => (inp(fx).preprocessing = [{ id: 'scale_linear', kwargs: { gain: 1, offset: 0 } }]),
  },
  {
    name: 'scale_linear list lengths differ',
    level: 'semantic',
    apply: (fx) =>
      (inp(fx).preprocessing = [
        { id: 'scale_linear', kwargs: { axis: 'channel', gain: [1, 2], offset: [0] } },
      ]),
  },
  {
    name: 'scale_range percentiles swapped',
    level: 'semantic',
    apply: (fx) =>
      (inp(fx).preprocessing = [{ id: 'scale_range', kwargs: { min_percentile: 90, max_percentile: 10 } }]),
  },
  {
    name: 'fixed zmuv mean/std lengths differ',
    level: 'semantic',
    apply: (fx) =>
      (inp(fx).preprocessing = [
        { id: 'fixed_zero_mean_unit_variance', kwargs: { axis: 'channel', mean: [1, 2], std: [1] } },
      ]),
  },
  {
    name: 'data per channel count differs',
    level: 'semantic',
    apply: (fx) => (out(fx).data = [{ type: 'float32' }]),
  },
  {
    name: 'data per channel types differ',
    level: 'semantic',
    apply: (fx) =>
      (out(fx).data = out(fx).axes[1].channel_names.map((_: string, i: number) => ({
        type: i === 0 ? 'float64' : 'float32',
      }))),
  },
  {
    name: 'nominal values incompatible with type',
    level: 'semantic',
    apply: (fx) => (out(fx).data = { type: 'float32', values: [0.5, 'background'] }),
  },
  {
    name: 'weights parent not present',
    level: 'semantic',
    apply: (fx) => (anyWeights(fx).parent = fx.rdf.weights.tensorflow_js ? 'onnx' : 'tensorflow_js'),
  },
  {
    name: 'weights own parent',
    level: 'semantic',
    apply: (fx) => {
      const [k, w] = Object.entries(fx.rdf.weights)[0] as [string, Json];
      w.parent = k;
    },
  },
  {
    name: 'reproducibility absolute_tolerance too large',
    level: 'semantic',
    apply: (fx) =>
      (fx.rdf.config = { bioimageio: { reproducibility_tolerance: [{ absolute_tolerance: 0.5 }] } }),
  },
  {
    name: 'parent model is itself',
    level: 'semantic',
    apply: (fx) => {
      fx.rdf.id = 'affable-shark';
      fx.rdf.parent = { id: 'affable-shark' };
    },
  },
];

/**
 * Departures from the written spec that bioimageio.spec 0.5.9.1 accepts: valid there (so valid
 * here), with a warning from us.
 */
export const QUIRKS: readonly Defect[] = [
  {
    name: 'future format_version 0.6.0 (read as latest)',
    level: 'semantic',
    apply: (fx) => (fx.rdf.format_version = '0.6.0'),
  },
  {
    name: 'tensor id upper case (LowerCase not enforced)',
    level: 'semantic',
    apply: (fx) => (out(fx).id = 'Prediction'),
  },
  {
    name: 'axis id upper case (LowerCase not enforced)',
    level: 'semantic',
    apply: (fx) => {
      out(fx).axes[1].id = 'Channel';
    },
  },
];

/** Defects for 0.4.x packages (read converted to 0.5, as ilastik does). */
export const DEFECTS_V04: readonly Defect[] = [
  { name: 'unknown key', level: 'schema', apply: (fx) => (fx.rdf.foo = 1) },
  { name: 'axes letters', level: 'schema', apply: (fx) => (fx.rdf.inputs[0].axes = 'bcyxq') },
  { name: 'data_type', level: 'schema', apply: (fx) => (fx.rdf.inputs[0].data_type = 'float17') },
  { name: 'no test outputs', level: 'schema', apply: (fx) => delete fx.rdf.test_outputs },
  { name: 'test output file missing', level: 'semantic', apply: (fx) => fx.files.delete('test_output.npy') },
  {
    name: 'sha256 mismatch',
    level: 'semantic',
    apply: (fx) => (fx.rdf.weights.onnx.sha256 = '0'.repeat(64)),
  },
  {
    name: 'test input empty file',
    level: 'semantic',
    apply: (fx) => fx.files.set('test_input.npy', new Uint8Array()),
  },
  {
    name: 'shape differs from test input',
    level: 'semantic',
    apply: (fx) => (fx.rdf.inputs[0].shape = [1, 1, 32, 48]),
  },
  {
    name: 'halo too large for the minimum shape',
    level: 'semantic',
    apply: (fx) => (fx.rdf.outputs[0].halo = [0, 0, 24, 24]),
  },
  {
    name: 'test output channels differ from implicit shape',
    level: 'semantic',
    apply: (fx) => (fx.rdf.outputs[0].shape.offset = [0, 1.5, 0, 0]),
  },
];
