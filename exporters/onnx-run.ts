/**
 * Run a single-input single-output ONNX model on the calling thread with runtime/'s onnxruntime
 * backend (whole tensors only: the exporter checks test tensors, tiling lives in runtime/).
 */
import { type InferenceBackend, loadBackend } from '../runtime/index.js';
import { ExportError } from './errors.js';
import type { Float32Nd } from './npy.js';

export interface OnnxModel {
  readonly inputName: string;
  readonly outputName: string;
  run(x: Float32Nd): Promise<Float32Nd>;
  dispose(): Promise<void>;
}

export async function loadOnnx(path: string, what = 'model.onnx'): Promise<OnnxModel> {
  let backend: InferenceBackend;
  try {
    backend = await loadBackend(path, { workers: 0, intraOpThreads: 1 });
  } catch (err) {
    throw new ExportError('OnnxInvalid', `${what}: onnxruntime cannot load it: ${(err as Error).message}`, {
      hint: 're-export the ONNX file (opset 17 or 18) from the bundle',
      cause: err,
    });
  }
  if (backend.inputs.length !== 1 || backend.outputs.length !== 1) {
    await backend.dispose();
    throw new ExportError(
      'OnnxInvalid',
      `${what}: has ${backend.inputs.length} inputs and ${backend.outputs.length} outputs, expected 1 and 1`,
      { hint: 'export multi-head networks through a wrapper that concatenates heads along channels' },
    );
  }
  const inputName = (backend.inputs[0] as { name: string }).name;
  const outputName = (backend.outputs[0] as { name: string }).name;
  return {
    inputName,
    outputName,
    async run(x) {
      try {
        const out = await backend.run({ [inputName]: x });
        const y = out[outputName];
        if (y === undefined || y.dtype !== 'float32') throw new Error(`no float32 output '${outputName}'`);
        return y as Float32Nd;
      } catch (err) {
        throw new ExportError(
          'ReproduceFailed',
          `${what}: inference failed on input shape [${x.shape.join(', ')}]: ${(err as Error).message}`,
          {
            hint: 'check that the ONNX graph has dynamic batch and spatial axes matching the declared sizes',
            cause: err,
          },
        );
      }
    },
    dispose: () => backend.dispose(),
  };
}
