import { InvalidTilingError } from '../errors.js';
import type { Region } from '../volumes/region.js';
import { alignmentOf, checkGeometry, isValidInput, type ModelGeometry } from './geometry.js';

export interface TilingOptions {
  /** Bytes one block in flight may use (see blockBytes: compute, activations and pipeline buffers). */
  readonly memoryBudgetBytes: number;
  /**
   * Bytes per input voxel, in float32 values, that running one block costs beyond its input and
   * output tensors: onnxruntime's activations (its arena keeps the peak) plus what the garbage
   * collector and malloc hold on to between blocks. Default 48, calibrated from max RSS of
   * `predict` runs (bench/inference/predict-memory.ts; lsd-small-mtlsd, blocks 92³–168³: 44–50).
   */
  readonly activationFactor?: number;
  /** Bytes per stored output value (1 for uint8 outputs, 4 for float32); default 4. */
  readonly outputBytes?: number;
  /** Use this block input size (must be valid) instead of deriving it from the budget. */
  readonly blockInput?: readonly number[];
}

/** One block: read (with halo, may extend past the volume: padded), computed, and written regions. */
export interface Block {
  readonly id: number;
  readonly index: readonly number[];
  /** Input region fed to the network (spatial, volume coordinates; may be partly outside). */
  readonly read: Region;
  /** Output region the network computes (read shrunk by the halo). */
  readonly output: Region;
  /** The part of `output` this block writes: blocks' write regions partition the volume. */
  readonly write: Region;
}

export interface TilePlan {
  readonly volumeShape: readonly number[];
  readonly blockInput: readonly number[];
  readonly blockOutput: readonly number[];
  /** Distance between consecutive write regions (= chunk shape of an aligned output). */
  readonly stride: readonly number[];
  readonly grid: readonly number[];
  readonly blockCount: number;
  readonly blockBytes: number;
  block(id: number): Block;
  blocks(): Generator<Block>;
}

const prod = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);

export const DEFAULT_ACTIVATION_FACTOR = 48;

/**
 * Estimated bytes for one block in flight of input size `s`: in the worker, the float32 input,
 * activations and float32 output; in the block loop's pipeline, the next block's input (prefetched)
 * and up to three copies of the stored output (just computed, being written, the encoder's copy).
 * Calibrated against max RSS (see TilingOptions.activationFactor): within 5 % for 92³–168³ blocks.
 */
export function blockBytes(
  g: ModelGeometry,
  s: readonly number[],
  activationFactor = DEFAULT_ACTIVATION_FACTOR,
  outputBytes = 4,
): number {
  const w = s.map((v, i) => v - 2 * (g.halo[i] as number));
  const vin = prod(s);
  const vout = prod(w) * g.outputChannels;
  const running = 4 * vin * (g.inputChannels + activationFactor) + 4 * vout;
  const pipeline = 4 * vin * g.inputChannels + 3 * outputBytes * vout;
  return running + pipeline;
}

function chooseBlockInput(volume: readonly number[], g: ModelGeometry, o: TilingOptions): number[] {
  const factor = o.activationFactor ?? DEFAULT_ACTIVATION_FACTOR;
  const outBytes = o.outputBytes ?? 4;
  if (!(o.memoryBudgetBytes > 0))
    throw new TypeError(`'memoryBudgetBytes' must be > 0, got ${o.memoryBudgetBytes}`);
  if (!(factor >= 0)) throw new TypeError(`'activationFactor' must be >= 0, got ${factor}`);
  if (o.blockInput) {
    const s = [...o.blockInput];
    if (s.length !== volume.length || s.some((v, i) => !isValidInput(g, i, v))) {
      throw new InvalidTilingError(
        `block input [${s}] is not a valid model input size`,
        `use minInput + k·step per axis: minInput [${g.minInput}], step [${g.step}]`,
      );
    }
    return s;
  }
  const s = [...g.minInput];
  const fits = (t: readonly number[]) => blockBytes(g, t, factor, outBytes) <= o.memoryBudgetBytes;
  if (!fits(s)) {
    throw new InvalidTilingError(
      `the smallest valid block [${s}] needs ${blockBytes(g, s, factor, outBytes)} bytes, over the budget of ${o.memoryBudgetBytes}`,
      'raise memoryBudgetBytes (or lower activationFactor if it overestimates the network)',
    );
  }
  // Grow the axis with the smallest output first (cube-ish blocks), until the budget is reached or
  // the output covers the volume on that axis.
  const open = new Set(s.map((_, i) => i));
  const out = (i: number) => (s[i] as number) - 2 * (g.halo[i] as number);
  for (const i of open) if (out(i) >= (volume[i] as number)) open.delete(i);
  while (open.size > 0) {
    const i = [...open].reduce((a, b) => (out(b) < out(a) ? b : a));
    const next = [...s];
    next[i] = (s[i] as number) + (g.step[i] as number);
    if (!fits(next)) {
      open.delete(i);
      continue;
    }
    s[i] = next[i] as number;
    if (out(i) >= (volume[i] as number)) open.delete(i);
  }
  return balance(volume, g, s);
}

/**
 * Shrinks each axis to the smallest valid block that still covers the volume in as many blocks:
 * same block count, less compute (256 voxels with a 116-voxel block output: 3 blocks of 88, not 3
 * of 116 of which the last mostly overlaps: 2.3x fewer computed voxels at 256^3).
 */
function balance(volume: readonly number[], g: ModelGeometry, s: readonly number[]): number[] {
  const align = alignmentOf(g);
  return s.map((size, i) => {
    const v = volume[i] as number;
    const h = g.halo[i] as number;
    const al = align[i] as number;
    const stride = (t: number) => Math.floor((t - 2 * h) / al) * al;
    if (stride(size) < 1) return size; // planTiles reports this block as too small
    const count = Math.ceil(v / stride(size));
    let t = g.minInput[i] as number;
    while (t < size && Math.ceil(v / Math.max(stride(t), 1)) > count) t += g.step[i] as number;
    return t;
  });
}

/**
 * Plans blocks over a volume (spatial shape) from the model's halo and valid sizes: the largest
 * valid block within the memory budget, shrunk per axis to the smallest block needing no more
 * blocks (balanced), write regions tiling the volume exactly once, output
 * origins on the model's alignment grid (so tiled output equals a single pass), the last block
 * shifted inward where possible and padded otherwise.
 */
export function planTiles(
  volumeShape: readonly number[],
  geometry: ModelGeometry,
  options: TilingOptions,
): TilePlan {
  checkGeometry(geometry);
  if (
    volumeShape.length !== geometry.minInput.length ||
    volumeShape.some((v) => !Number.isInteger(v) || v < 1)
  ) {
    throw new TypeError(
      `'volumeShape' must be ${geometry.minInput.length} positive integers, got [${volumeShape}]`,
    );
  }
  const align = alignmentOf(geometry);
  const blockInput = chooseBlockInput(volumeShape, geometry, options);
  const blockOutput = blockInput.map((s, i) => s - 2 * (geometry.halo[i] as number));
  const stride = blockOutput.map((w, i) => Math.floor(w / (align[i] as number)) * (align[i] as number));
  stride.forEach((st, i) => {
    if (st < 1) {
      throw new InvalidTilingError(
        `axis ${i}: block output ${blockOutput[i]} is smaller than the alignment ${align[i]}`,
        'use a larger block (memoryBudgetBytes or blockInput)',
      );
    }
  });
  const grid = volumeShape.map((v, i) => Math.ceil(v / (stride[i] as number)));
  const blockCount = prod(grid);

  const block = (id: number): Block => {
    if (!Number.isInteger(id) || id < 0 || id >= blockCount)
      throw new RangeError(`block id ${id} out of range`);
    const index: number[] = new Array(grid.length);
    let rest = id;
    for (let a = grid.length - 1; a >= 0; a--) {
      index[a] = rest % (grid[a] as number);
      rest = Math.floor(rest / (grid[a] as number));
    }
    const wStart = index.map((k, a) => k * (stride[a] as number));
    const wStop = wStart.map((s, a) => Math.min(s + (stride[a] as number), volumeShape[a] as number));
    const oStart = wStart.map((s, a) => {
      const w = blockOutput[a] as number;
      if (s + w <= (volumeShape[a] as number)) return s;
      // Last block: shift inward onto the alignment grid; what still sticks out is padded.
      const al = align[a] as number;
      return Math.min(s, Math.max(0, Math.ceil(((volumeShape[a] as number) - w) / al) * al));
    });
    const oStop = oStart.map((s, a) => s + (blockOutput[a] as number));
    const h = geometry.halo;
    return {
      id,
      index,
      read: {
        start: oStart.map((s, a) => s - (h[a] as number)),
        stop: oStop.map((s, a) => s + (h[a] as number)),
      },
      output: { start: oStart, stop: oStop },
      write: { start: wStart, stop: wStop },
    };
  };

  return {
    volumeShape: [...volumeShape],
    blockInput,
    blockOutput,
    stride,
    grid,
    blockCount,
    blockBytes: blockBytes(geometry, blockInput, options.activationFactor, options.outputBytes),
    block,
    *blocks() {
      for (let id = 0; id < blockCount; id++) yield block(id);
    },
  };
}

/**
 * The plan with every region moved by `by` (a no-op for zeros): a plan made over a sub-region's
 * shape, placed at the sub-region's origin (reads then take real context around it).
 */
export function shiftPlan(p: TilePlan, by: readonly number[]): TilePlan {
  if (by.every((v) => v === 0)) return p;
  const mv = (r: Region): Region => ({
    start: r.start.map((v, i) => v + (by[i] as number)),
    stop: r.stop.map((v, i) => v + (by[i] as number)),
  });
  const block = (id: number) => {
    const b = p.block(id);
    return { ...b, read: mv(b.read), output: mv(b.output), write: mv(b.write) };
  };
  return {
    ...p,
    block,
    *blocks() {
      for (let id = 0; id < p.blockCount; id++) yield block(id);
    },
  };
}
