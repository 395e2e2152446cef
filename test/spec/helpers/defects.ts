/**
 * One defect each, applied to a valid fixture: schema-level ones (the JSON schema rejects them)
 * and semantic ones (bioimageio.spec's Python validators and IO checks reject them, see
 * defects-semantic.ts).
 */

import { anyWeights, type Defect, inp, out, spaceIn, spaceOut } from './defect-helpers.js';
import { SEMANTIC_DEFECTS } from './defects-semantic.js';
import { AUTO } from './model-fixture.js';

export type { Defect } from './defect-helpers.js';

/** Schema-level defects: the JSON schema rejects them. */
export const SCHEMA_DEFECTS: readonly Defect[] = [
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

export const DEFECTS: readonly Defect[] = [...SCHEMA_DEFECTS, ...SEMANTIC_DEFECTS];
