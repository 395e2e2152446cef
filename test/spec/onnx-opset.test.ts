import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultOpset, isSpecError, readOnnxOpsets } from '../../spec/index.js';
import { onnxModelBytes } from './helpers/onnx-bytes.js';

describe('readOnnxOpsets', () => {
  test('reads every opset_import entry of a hand-encoded model', () => {
    const bytes = onnxModelBytes([
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    expect(readOnnxOpsets(bytes)).toEqual([
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    expect(defaultOpset(readOnnxOpsets(bytes))).toBe(17);
  });

  test('reads a real model saved by the onnx package (with weights in the graph)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-'));
    try {
      const py = spawnSync(
        join(process.cwd(), '.venv/bin/python'),
        [
          '-c',
          `import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
w = numpy_helper.from_array(np.ones((4, 1, 3, 3, 3), np.float32), 'w')
node = helper.make_node('Conv', ['x', 'w'], ['y'], pads=[1] * 6)
g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['b', 1, 'z', 'y', 'x'])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['b', 4, 'z', 'y', 'x'])], [w])
for v in (17, 18, 20):
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', v), helper.make_opsetid('ai.onnx.ml', 3)])
    onnx.checker.check_model(m)
    onnx.save(m, f'{sys.argv[1]}/m{v}.onnx')`,
          dir,
        ],
        { encoding: 'utf8' },
      );
      expect(py.status, py.stderr).toBe(0);
      for (const v of [17, 18, 20]) {
        const opsets = readOnnxOpsets(new Uint8Array(readFileSync(join(dir, `m${v}.onnx`))));
        expect(opsets).toContainEqual({ domain: 'ai.onnx.ml', version: 3 });
        expect(defaultOpset(opsets)).toBe(v);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['empty file', new Uint8Array()],
    ['text', new TextEncoder().encode('definitely not protobuf')],
    ['truncated length-delimited field', Uint8Array.from([0x3a, 0x20, 0x01])],
    ['truncated varint', Uint8Array.from([0x08, 0xff])],
  ])('rejects %s with OnnxFormatError', (_name, bytes) => {
    let caught: unknown;
    try {
      readOnnxOpsets(bytes);
    } catch (e) {
      caught = e;
    }
    expect(isSpecError(caught, 'OnnxFormatError')).toBe(true);
  });

  test('defaultOpset ignores other domains and accepts ai.onnx', () => {
    expect(defaultOpset([{ domain: 'com.microsoft', version: 1 }])).toBeUndefined();
    expect(defaultOpset([{ domain: 'ai.onnx', version: 12 }])).toBe(12);
  });
});
