/** Semantic defects: bioimageio.spec's Python validators and IO checks reject them. */

import { anyWeights, type Defect, inp, out, retensor, shapeOf, spaceIn, spaceOut } from './defect-helpers.js';
import { writeTiff } from './image-write.js';
import type { Json } from './model-fixture.js';
import { seededValues } from './npy-write.js';

export const SEMANTIC_DEFECTS: readonly Defect[] = [
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
