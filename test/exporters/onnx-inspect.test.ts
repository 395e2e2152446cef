import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultOpset, inspectOnnx, isExportError } from '../../exporters/index.js';
import { realBundle } from './bundles.js';

let dir: string;
beforeAll(() => {
  dir = realBundle();
}, 180_000);

describe('inspectOnnx', () => {
  it('reads the I/O, shapes and opset that onnxruntime and bundle.yaml report', async () => {
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
    const info = inspectOnnx(bytes);
    const bundle = yaml.load(readFileSync(join(dir, 'bundle.yaml'), 'utf8')) as {
      weights: { onnx: { opset: number } };
      output: { channel_names: string[] };
    };
    expect(defaultOpset(info)).toBe(bundle.weights.onnx.opset);
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(info.inputs.map((i) => i.name)).toEqual(session.inputNames);
      expect(info.outputs.map((o) => o.name)).toEqual(session.outputNames);
      const meta = session.inputMetadata[0] as unknown as { shape: (number | string)[]; type: string };
      expect(info.inputs[0]?.shape).toEqual(meta.shape);
      expect(info.inputs[0]?.elemType).toBe(meta.type);
      expect(info.outputs[0]?.shape[1]).toBe(bundle.output.channel_names.length);
    } finally {
      await session.release();
    }
    expect(info.nodeCount).toBeGreaterThan(0);
    expect(info.initializerCount).toBeGreaterThan(0);
  });

  it('refuses bytes that are not an ONNX model', () => {
    const err = (() => {
      try {
        inspectOnnx(new TextEncoder().encode('definitely not protobuf \u0007\u0007'));
      } catch (e) {
        return e;
      }
    })();
    expect(isExportError(err, 'OnnxInvalid')).toBe(true);
  });
});
