/**
 * piscina worker: holds one onnxruntime session per config (created on first use) and runs it.
 * Errors come back as data (tag + fields) because structured clone drops Error subclasses.
 */
import { Piscina } from 'piscina';
import type { OutputShaping } from '../tensors/crop-convert.js';
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
      readonly output?: OutputShaping;
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

/**
 * The reply with the output buffers moved, not copied, to the caller (a block's output is tens of
 * MB: structured clone would copy it once more). The output arrays are onnxruntime's own
 * JS-allocated buffers, or cropConvert's; each is owned by this reply alone.
 */
function moved(reply: WorkerReply & { results: Record<string, NdArray> }): WorkerReply {
  const buffers = [...new Set(Object.values(reply.results).map((a) => a.data.buffer as ArrayBuffer))];
  const movable = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: reply };
  return Piscina.move(movable as unknown as ArrayBufferView) as unknown as WorkerReply;
}

export default async function ortWorker(task: WorkerTask): Promise<WorkerReply> {
  try {
    const loaded = await session(task.config);
    if (task.kind === 'load') return { ok: true, inputs: loaded.inputs, outputs: loaded.outputs };
    if (Atomics.load(new Int32Array(task.cancel), 0) === 1) return { ok: true, cancelled: true };
    return moved({ ok: true, results: await runSession(task.config, loaded, task.feeds, task.output) });
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
