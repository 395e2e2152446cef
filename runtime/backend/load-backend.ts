import { OrtBackend } from './ort-backend.js';
import { OrtPoolBackend } from './ort-pool-backend.js';
import type { BackendOptions, InferenceBackend } from './types.js';

/**
 * Loads an ONNX model behind the InferenceBackend contract: a worker pool by default
 * (`workers`, default 1), or the calling thread with `workers: 0`. Sessions are cached by model
 * path + options; CUDA is used only when `device: 'cuda'` and fails with ProviderUnavailable if absent.
 */
export async function loadBackend(
  modelPath: string,
  options: BackendOptions = {},
): Promise<InferenceBackend> {
  if (options.workers === 0) return OrtBackend.create(modelPath, options);
  return OrtPoolBackend.create(modelPath, options);
}
