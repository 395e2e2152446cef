import type { InferenceBackend } from '../backend/types.js';
import { AbortedError, ShapeMismatchError } from '../errors.js';
import type { NdArray } from '../tensors/ndarray.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import type { LinearMap } from '../tiling/normalize.js';
import { type PadMode, readPadded } from '../tiling/padding.js';
import type { Block, TilePlan } from '../tiling/plan.js';
import type { Volume } from '../volumes/open-volume.js';
import { outputShaping } from './block-output.js';
import type { BlockSource } from './block-source.js';

export interface Progress {
  /** Blocks done, including those skipped as already done. */
  readonly done: number;
  readonly total: number;
  /** Blocks skipped because an earlier run finished them. */
  readonly skipped: number;
  readonly elapsedMs: number;
  /** Estimated time left, from this run's mean time per block. */
  readonly etaMs: number;
  readonly blockId: number;
}

export interface BlockLoop {
  readonly backend: InferenceBackend;
  readonly geometry: ModelGeometry;
  readonly plan: TilePlan;
  readonly source: BlockSource;
  readonly input: Volume;
  readonly padding: PadMode;
  readonly norm: LinearMap;
  /** dtype the sink receives; the crop to the write region and the conversion happen in the backend. */
  readonly outputDtype: 'float32' | 'uint8';
  /** Stores one block's output cropped to its write region ([C, ...write]); must be idempotent. */
  readonly sink: (block: Block, out: NdArray, signal?: AbortSignal) => Promise<void>;
  /** Blocks computed at once (one per backend worker). */
  readonly maxInFlight: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  readonly what: string;
}

/** One float32 input and output of rank 2 + spatial, with the geometry's channel counts where fixed. */
export function checkModelFitsGeometry(backend: InferenceBackend, g: ModelGeometry): void {
  const rank = 2 + g.minInput.length;
  const check = (what: string, infos: InferenceBackend['inputs'], channels: number) => {
    const info = infos[0];
    const ok =
      infos.length === 1 &&
      info?.dtype === 'float32' &&
      info.shape.length === rank &&
      (typeof info.shape[1] === 'string' || info.shape[1] === channels);
    if (!ok) {
      throw new ShapeMismatchError(
        `model ${what}s of ${backend.modelPath}`,
        `one float32 ${what} [N, ${channels}, ${g.minInput.map(() => '·').join(', ')}]`,
        info ? info.shape.map((d) => (typeof d === 'number' ? d : -1)) : [],
        `export the model with one ${what} (concatenate heads along channels) or fix the geometry's channel count`,
      );
    }
  };
  check('input', backend.inputs, g.inputChannels);
  check('output', backend.outputs, g.outputChannels);
}

/**
 * The executor core: `maxInFlight` loops each take a block id from the source, read its region
 * (padded, normalised), run the model, hand the output to the sink and report the block done.
 * Each loop overlaps its I/O with compute: the next block's read starts while the current block
 * runs, and a block's write goes on while the next one runs (at most one write pending per loop).
 * Memory is bounded by maxInFlight × (running block + prefetched input + pending output), whatever
 * the volume size. Returns blocks computed.
 */
export async function runBlockLoop(l: BlockLoop): Promise<number> {
  const t0 = performance.now();
  const { backend, geometry: g, plan, source, signal } = l;
  checkModelFitsGeometry(backend, g);
  const inputName = backend.inputs[0]?.name as string;
  const outputName = backend.outputs[0]?.name as string;
  let processed = 0;
  let failure: unknown;
  const stopped = () => failure !== undefined || signal?.aborted === true;

  const read = (id: number): Promise<NdArray> => {
    const p = readPadded(l.input, plan.block(id).read, l.padding, l.norm, { signal });
    p.catch(() => {}); // awaited later (or dropped when the run stops); no unhandled rejection
    return p;
  };
  const compute = async (id: number, x: NdArray): Promise<NdArray> => {
    const block = plan.block(id);
    const feed: NdArray = { dtype: 'float32', shape: [1, ...x.shape], data: x.data };
    const result = await backend.run(
      { [inputName]: feed },
      { signal, transfer: true, output: outputShaping(block.output, block.write, l.outputDtype) },
    );
    const y = result[outputName] as NdArray;
    const expected = [
      1,
      g.outputChannels,
      ...block.write.stop.map((v, a) => v - (block.write.start[a] as number)),
    ];
    if (y.shape.length !== expected.length || y.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeMismatchError(
        `model output for block ${id}`,
        `[${[1, g.outputChannels, ...plan.blockOutput]}] (input [${plan.blockInput}] minus 2·halo [${g.halo}])`,
        y.shape,
        "the geometry's halo/valid sizes do not match the model; check bundle.yaml",
      );
    }
    return { dtype: y.dtype, shape: y.shape.slice(1), data: y.data } as NdArray;
  };
  /** A failed block: retried by the source, or the run fails. */
  const failed = async (id: number, err: unknown) => {
    if (signal?.aborted) return;
    // Shape mismatches are deterministic: retrying cannot help.
    if (err instanceof ShapeMismatchError || (await source.fail(id, err)) === 'give-up') failure ??= err;
  };
  const finished = (id: number) => {
    processed++;
    const elapsedMs = performance.now() - t0;
    const done = source.alreadyDone + processed;
    l.onProgress?.({
      done,
      total: source.total,
      skipped: source.alreadyDone,
      elapsedMs,
      etaMs: (elapsedMs / processed) * (source.total - done),
      blockId: id,
    });
  };

  const loop = async () => {
    let pendingWrite: Promise<void> = Promise.resolve();
    let id = stopped() ? undefined : await source.next(signal);
    let x = id === undefined ? undefined : read(id);
    for (;;) {
      if (id === undefined || x === undefined) {
        // A failed write may have put its block back: look again once it settled.
        await pendingWrite;
        pendingWrite = Promise.resolve();
        id = stopped() ? undefined : await source.next(signal);
        if (id === undefined) break;
        x = read(id);
      }
      if (stopped()) break;
      const cur = id;
      const running = x.then((v) => compute(cur, v));
      running.catch(() => {});
      // Prefetch: the next block's read overlaps this block's compute.
      id = stopped() ? undefined : await source.next(signal);
      x = id === undefined ? undefined : read(id);
      let y: NdArray | undefined;
      let err: unknown;
      try {
        y = await running;
      } catch (e) {
        err = e;
      }
      await pendingWrite; // at most one write pending per loop
      if (y !== undefined) {
        const out = y;
        pendingWrite = l.sink(plan.block(cur), out, signal).then(
          async () => {
            await source.complete(cur);
            finished(cur);
          },
          (e: unknown) => failed(cur, e),
        );
      } else {
        await failed(cur, err);
      }
    }
    await pendingWrite;
  };
  await Promise.all(Array.from({ length: l.maxInFlight }, loop));
  if (failure !== undefined) throw failure;
  if (signal?.aborted) throw new AbortedError(l.what);
  return processed;
}
