import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  InferenceError,
  ModelLoadError,
  ProviderUnavailableError,
  ShapeMismatchError,
  UnsupportedDtypeError,
} from '../errors.js';
import { cropConvert, type OutputShaping } from '../tensors/crop-convert.js';
import { DTYPES, isDType } from '../tensors/dtype.js';
import type { NdArray } from '../tensors/ndarray.js';
import type { BackendOptions, SessionConfig, TensorInfo } from './types.js';

/** Applies defaults and checks option values (TypeError names the bad argument). */
export function sessionConfig(modelPath: string, options: BackendOptions = {}): SessionConfig {
  const positive = (name: string, v: number | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`'${name}' must be a positive integer, got ${v}`);
    return v;
  };
  const device = options.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda')
    throw new TypeError(`'device' must be 'cpu' or 'cuda', got '${device}'`);
  const deviceId = options.deviceId ?? 0;
  if (!Number.isInteger(deviceId) || deviceId < 0)
    throw new TypeError(`'deviceId' must be >= 0, got ${deviceId}`);
  return {
    modelPath: resolve(modelPath),
    device,
    deviceId,
    intraOpThreads: positive('intraOpThreads', options.intraOpThreads, 1),
    interOpThreads: positive('interOpThreads', options.interOpThreads, 1),
    logSeverity: options.logSeverity ?? 3,
  };
}

export interface LoadedSession {
  readonly session: ort.InferenceSession;
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[], where: string): TensorInfo[] {
  return meta.map((m) => {
    if (!m.isTensor) throw new UnsupportedDtypeError('non-tensor', DTYPES, `${where} '${m.name}'`);
    if (!isDType(m.type)) throw new UnsupportedDtypeError(m.type, DTYPES, `${where} '${m.name}'`);
    return { name: m.name, dtype: m.type, shape: [...m.shape] };
  });
}

async function createSession(config: SessionConfig): Promise<LoadedSession> {
  // A missing file must read as such, not as a provider failure when CUDA is requested.
  await access(config.modelPath).catch((cause: unknown) => {
    throw new ModelLoadError(config.modelPath, cause);
  });
  const provider: ort.InferenceSession.ExecutionProviderConfig =
    config.device === 'cuda' ? { name: 'cuda', deviceId: config.deviceId } : { name: 'cpu' };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(config.modelPath, {
      // Exactly one provider: ['cuda','cpu'] would not fall back anyway, it just throws.
      executionProviders: [provider],
      intraOpNumThreads: config.intraOpThreads,
      interOpNumThreads: config.interOpThreads,
      logSeverityLevel: config.logSeverity,
    });
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (config.device === 'cuda' && /cuda|provider|shared library|backend/i.test(msg)) {
      throw new ProviderUnavailableError('cuda', cause);
    }
    throw new ModelLoadError(config.modelPath, cause);
  }
  return {
    session,
    inputs: describe(session.inputMetadata, 'model input'),
    outputs: describe(session.outputMetadata, 'model output'),
  };
}

interface CacheEntry {
  readonly loading: Promise<LoadedSession>;
  refs: number;
}
// One cache per thread: each worker keeps its own sessions, keyed by model path + options.
const cache = new Map<string, CacheEntry>();

export function cacheKey(config: SessionConfig): string {
  return JSON.stringify(config);
}

/** Returns the cached session for this config (creating it once); pair with releaseSession(). */
export async function acquireSession(config: SessionConfig): Promise<LoadedSession> {
  const key = cacheKey(config);
  let entry = cache.get(key);
  if (!entry) {
    entry = { loading: createSession(config), refs: 0 };
    cache.set(key, entry);
    entry.loading.catch(() => cache.delete(key));
  }
  entry.refs++;
  return entry.loading;
}

export async function releaseSession(config: SessionConfig): Promise<void> {
  const key = cacheKey(config);
  const entry = cache.get(key);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  cache.delete(key);
  const loaded = await entry.loading.catch(() => undefined);
  await loaded?.session.release();
}

/** Number of sessions alive in this thread (for tests and metrics). */
export function cachedSessionCount(): number {
  return cache.size;
}

/** Checks names, dtypes, rank and fixed dimensions before anything reaches onnxruntime. */
export function checkFeeds(inputs: readonly TensorInfo[], feeds: Readonly<Record<string, NdArray>>): void {
  for (const info of inputs) {
    const arr = feeds[info.name];
    if (!arr) {
      throw new TypeError(
        `'feeds' lacks input '${info.name}' (model inputs: ${inputs.map((i) => i.name).join(', ')})`,
      );
    }
    if (arr.dtype !== info.dtype) {
      throw new UnsupportedDtypeError(arr.dtype, [info.dtype], `input '${info.name}'`);
    }
    const fits =
      arr.shape.length === info.shape.length &&
      info.shape.every((d, i) => typeof d === 'string' || d === arr.shape[i]);
    if (!fits) {
      throw new ShapeMismatchError(
        `input '${info.name}'`,
        `[${info.shape.join(', ')}]`,
        arr.shape,
        'give the array the rank and fixed dimensions of the model input (symbolic ones may vary)',
      );
    }
  }
}

/** Runs one inference; inputs and outputs are plain NdArrays (no onnxruntime types escape). */
export async function runSession(
  config: SessionConfig,
  loaded: LoadedSession,
  feeds: Readonly<Record<string, NdArray>>,
  shaping?: OutputShaping,
): Promise<Record<string, NdArray>> {
  checkFeeds(loaded.inputs, feeds);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const info of loaded.inputs) {
    const arr = feeds[info.name] as NdArray;
    ortFeeds[info.name] = new ort.Tensor(arr.dtype, arr.data, [...arr.shape]);
  }
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await loaded.session.run(ortFeeds);
  } catch (cause) {
    throw new InferenceError(config.modelPath, cause);
  }
  const out: Record<string, NdArray> = {};
  for (const info of loaded.outputs) {
    const t = results[info.name] as ort.Tensor;
    const y = { dtype: info.dtype, shape: [...t.dims], data: t.data as NdArray['data'] };
    if (shaping && y.dtype !== 'float32') {
      throw new UnsupportedDtypeError(y.dtype, ['float32'], `output '${info.name}' (to crop/convert)`);
    }
    out[info.name] = shaping ? cropConvert(y as NdArray<'float32'>, shaping) : y;
  }
  return out;
}
