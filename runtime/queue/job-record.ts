import type { BackendOptions } from '../backend/types.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import type { PadMode } from '../tiling/padding.js';
import { QueueError } from './queue-errors.js';

/**
 * Everything a worker needs to run a job's blocks, stored as JSON in Redis by the coordinator.
 * Paths are absolute and must mean the same file on every worker host (shared filesystem).
 * The plan is fixed here (blockInput, resolved normalisation), so every worker computes the same
 * blocks whatever its own memory or concurrency.
 */
export interface RedisJobRecord {
  readonly version: 1;
  readonly id: string;
  /** Absolute path of the ONNX model. */
  readonly model: string;
  readonly backendOptions?: Pick<BackendOptions, 'device'>;
  /** Absolute path or http(s) URL of the input volume. */
  readonly input: string;
  /** Absolute path of the OME-Zarr output, created by the coordinator. */
  readonly output: string;
  readonly geometry: ModelGeometry;
  readonly blockInput: readonly number[];
  readonly outputDtype: 'float32' | 'uint8';
  readonly padding: PadMode;
  /** Dataset normalisation resolved once by the coordinator. */
  readonly normalization: { readonly gain: number; readonly offset: number };
  readonly total: number;
  readonly maxRetries: number;
  /** A worker that stops renewing its lease for this long loses the block to another worker. */
  readonly leaseMs: number;
  /** Hash of the plan; a re-submit with a different plan is a JobConflict. */
  readonly fingerprint: string;
  readonly createdAt: string;
}

const isNums = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Parses a record read from Redis (untrusted: another version or a hand edit may have written it). */
export function parseJobRecord(id: string, text: string): RedisJobRecord {
  const bad = (what: string) =>
    new QueueError(
      'BadJobRecord',
      `job '${id}': the record in Redis is unusable: ${what}`,
      'submit the job again (bioimage-export predict --queue ...) with this version of emzoo',
    );
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (typeof r !== 'object' || r === null) throw bad('not an object');
  if (r.version !== 1) throw bad(`version ${String(r.version)} (expected 1)`);
  for (const k of ['model', 'input', 'output', 'fingerprint'] as const) {
    if (typeof r[k] !== 'string' || r[k] === '') throw bad(`'${k}' missing`);
  }
  const g = r.geometry as Record<string, unknown> | undefined;
  if (
    !g ||
    !isNums(g.minInput) ||
    !isNums(g.step) ||
    !isNums(g.halo) ||
    typeof g.inputChannels !== 'number' ||
    typeof g.outputChannels !== 'number'
  ) {
    throw bad("'geometry' malformed");
  }
  if (!isNums(r.blockInput) || r.blockInput.length !== g.minInput.length) throw bad("'blockInput' malformed");
  if (r.outputDtype !== 'float32' && r.outputDtype !== 'uint8') throw bad("'outputDtype' malformed");
  if (!['zero', 'reflect', 'edge'].includes(r.padding as string)) throw bad("'padding' malformed");
  const n = r.normalization as Record<string, unknown> | undefined;
  if (!n || typeof n.gain !== 'number' || typeof n.offset !== 'number')
    throw bad("'normalization' malformed");
  for (const k of ['total', 'maxRetries', 'leaseMs'] as const) {
    if (typeof r[k] !== 'number' || !Number.isInteger(r[k]) || (r[k] as number) < 0)
      throw bad(`'${k}' malformed`);
  }
  return r as unknown as RedisJobRecord;
}
