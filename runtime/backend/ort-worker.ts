/**
 * piscina worker: holds one onnxruntime session per config (created on first use) and runs it.
 * Errors come back as data (tag + fields) because structured clone drops Error subclasses.
 */
import type { NdArray } from '../tensors/ndarray.js';
import { acquireSession, type LoadedSession, runSession } from './ort-session.js';
import type { SessionConfig, TensorInfo } from './types.js';
import { type SerializedError, serializeError } from './worker-errors.js';

export type WorkerTask =
  | { readonly kind: 'load'; readonly config: SessionConfig }
  | {
      readonly kind: 'run';
      readonly config: SessionConfig;
      readonly feeds: Record<string, NdArray>;
      /** Int32 flag set to 1 by the caller on abort: a task not yet started is skipped. */
      readonly cancel: SharedArrayBuffer;
    };

export type WorkerReply =
  | { readonly ok: true; readonly inputs: TensorInfo[]; readonly outputs: TensorInfo[] }
  | { readonly ok: true; readonly results: Record<string, NdArray> }
  | { readonly ok: true; readonly cancelled: true }
  | { readonly ok: false; readonly error: SerializedError };

const held = new Map<string, Promise<LoadedSession>>();

function session(config: SessionConfig): Promise<LoadedSession> {
  const key = JSON.stringify(config);
  let s = held.get(key);
  if (!s) {
    s = acquireSession(config);
    held.set(key, s);
    s.catch(() => held.delete(key));
  }
  return s;
}

export default async function ortWorker(task: WorkerTask): Promise<WorkerReply> {
  try {
    const loaded = await session(task.config);
    if (task.kind === 'load') return { ok: true, inputs: loaded.inputs, outputs: loaded.outputs };
    if (Atomics.load(new Int32Array(task.cancel), 0) === 1) return { ok: true, cancelled: true };
    return { ok: true, results: await runSession(task.config, loaded, task.feeds) };
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
