import { expect, test } from 'vitest';
import * as spec from '../../spec/index.js';

// Locks what spec/ exports at runtime: exporters/, runtime/ and cli/ depend on it.
test('spec/index.ts runtime exports', () => {
  expect(Object.keys(spec).sort()).toEqual(
    [
      'BIOIMAGEIO_SPEC_VERSION',
      'JDLL_MAX_ONNX_OPSET',
      'JDLL_PROCESSING_IDS',
      'RDF_NAMES',
      'SCHEMA_FORMAT_VERSION_0_4',
      'SCHEMA_FORMAT_VERSION_0_5',
      'SpecError',
      'WEIGHTS_FORMATS',
      'WRITE_FORMAT_VERSION',
      'axisHalo',
      'axisId',
      'axisScale',
      'axisSize',
      'axisUnit',
      'checkDeepImageJ',
      'checkIlastik',
      'checkTestTensors',
      'checkWriteProfile',
      'defaultOpset',
      'findRdfName',
      'imageDims',
      'folderSource',
      'formatReportText',
      'inputId',
      'isDataDependentSize',
      'isParameterizedSize',
      'isSizeReference',
      'isSpecError',
      'memorySource',
      'newerThan054',
      'npyStats',
      'outputId',
      'parseModelDescription',
      'parseModelDescriptionYaml',
      'parseNpyHeader',
      'parseYaml',
      'pointer',
      'presentWeights',
      'readNpyValues',
      'readOnnxOpsets',
      'sha256Hex',
      'staticChecks',
      'tensorDtype',
      'validatePackage',
      'validateSchema',
      'zipSource',
    ].sort(),
  );
  expect(spec.WRITE_FORMAT_VERSION).toBe('0.5.4');
});

test('axis helpers apply the spec defaults', () => {
  expect(spec.axisId({ type: 'space', size: 4 })).toBe('x');
  expect(spec.axisId({ type: 'channel', channel_names: ['a'] })).toBe('channel');
  expect(spec.axisSize({ type: 'channel', channel_names: ['a', 'b'] })).toBe(2);
  expect(spec.axisSize({ type: 'batch' })).toBeNull();
  expect(spec.axisScale({ type: 'space', size: 4, scale: 2.5 })).toBe(2.5);
  expect(spec.axisHalo({ type: 'space', size: { tensor_id: 't', axis_id: 'x' }, halo: 3 })).toBe(3);
  expect(spec.isParameterizedSize({ min: 1, step: 2 })).toBe(true);
  expect(spec.isSizeReference({ tensor_id: 't', axis_id: 'x' })).toBe(true);
  expect(spec.isDataDependentSize({ min: 1 })).toBe(true);
  expect(spec.pointer('a/b', 'c~d', 0)).toBe('/a~1b/c~0d/0');
  expect(spec.tensorDtype({ axes: [], data: { values: [0, 1] } })).toBe('uint8');
});
