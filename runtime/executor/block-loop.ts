import type { InferenceBackend } from '../backend/types.js';
import { AbortedError, ShapeMismatchError } from '../errors.js';
import type { NdArray } from '../tensors/ndarray.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import type { LinearMap } from '../tiling/normalize.js';
import { type PadMode, readPadded } from '../tiling/padding.js';
import type { Block, TilePlan } from '../tiling/plan.js';
import type { Volume } from '../volumes/open-volume.js';
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
  /** Stores one block's network output ([C, ...blockOutput], float32); must be idempotent. */
  readonly sink: (block: Block, out: NdArray<'float32'>, signal?: AbortSignal) => Promise<void>;
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
 * Memory is bounded by maxInFlight blocks, whatever the volume size. Returns blocks computed.
 */
export async function runBlockLoop(l: BlockLoop): Promise<number> {
  const t0 = performance.now();
  const { backend, geometry: g, plan, source, signal } = l;
  checkModelFitsGeometry(backend, g);
  const inputName = backend.inputs[0]?.name as string;
  const outputName = backend.outputs[0]?.name as string;
  const expected = [1, g.outputChannels, ...plan.blockOutput];
  let processed = 0;
  let failure: unknown;

  const doBlock = async (id: number) => {
    const block = plan.block(id);
    const x = await readPadded(l.input, block.read, l.padding, l.norm, { signal });
    const feed: NdArray = { dtype: 'float32', shape: [1, ...x.shape], data: x.data };
    const result = await backend.run({ [inputName]: feed }, { signal, transfer: true });
    const y = result[outputName] as NdArray<'float32'>;
    if (y.shape.length !== expected.length || y.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeMismatchError(
        `model output for block ${id}`,
        `[${expected}] (input [${plan.blockInput}] minus 2·halo [${g.halo}])`,
        y.shape,
        "the geometry's halo/valid sizes do not match the model; check bundle.yaml",
      );
    }
    await l.sink(block, { dtype: 'float32', shape: y.shape.slice(1), data: y.data }, signal);
    await source.complete(id);
  };

  const loop = async () => {
    while (failure === undefined && !signal?.aborted) {
      const id = await source.next(signal);
      if (id === undefined) return;
      try {
        await doBlock(id);
      } catch (err) {
        if (signal?.aborted) return;
        // Shape mismatches are deterministic: retrying cannot help.
        if (err instanceof ShapeMismatchError || (await source.fail(id, err)) === 'give-up') {
          failure ??= err;
          return;
        }
        continue;
      }
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
    }
  };
  await Promise.all(Array.from({ length: l.maxInFlight }, loop));
  if (failure !== undefined) throw failure;
  if (signal?.aborted) throw new AbortedError(l.what);
  return processed;
}
