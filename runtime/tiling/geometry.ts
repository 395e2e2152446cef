import { InvalidTilingError } from '../errors.js';

/**
 * What tiling needs to know about a valid-convolution network, per spatial axis (e.g. z, y, x).
 * Valid input sizes are `minInput + k·step`; the output of an input of size s is s − 2·halo, on
 * the same voxel grid. The server/CLI fill this from bundle.yaml (input.valid sizes, output.halo).
 */
export interface ModelGeometry {
  readonly minInput: readonly number[];
  readonly step: readonly number[];
  readonly halo: readonly number[];
  readonly inputChannels: number;
  readonly outputChannels: number;
  /**
   * Output origins must be multiples of this for the network to be shift-equivariant (a U-Net
   * with total downsampling f only commutes with shifts by multiples of f). Default: `step`.
   */
  readonly alignment?: readonly number[];
}

export function alignmentOf(g: ModelGeometry): readonly number[] {
  return g.alignment ?? g.step;
}

/** Checks the geometry once at the edge (TypeError names the field). */
export function checkGeometry(g: ModelGeometry): void {
  const n = g.minInput.length;
  const ints = (name: string, v: readonly number[], min: number) => {
    if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < min)) {
      throw new TypeError(`'geometry.${name}' must be ${n} integers >= ${min}, got [${v}]`);
    }
  };
  ints('minInput', g.minInput, 1);
  ints('step', g.step, 1);
  ints('halo', g.halo, 0);
  ints('alignment', alignmentOf(g), 1);
  for (const [name, v] of [
    ['inputChannels', g.inputChannels],
    ['outputChannels', g.outputChannels],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new TypeError(`'geometry.${name}' must be a positive integer, got ${v}`);
  }
  g.minInput.forEach((m, i) => {
    if (m - 2 * (g.halo[i] as number) < 1) {
      throw new InvalidTilingError(
        `axis ${i}: the minimum input ${m} leaves no output with halo ${g.halo[i]}`,
        "check the model's declared halo and minimum input size",
      );
    }
  });
}

/** Whether `size` is minInput + k·step on `axis`. */
export function isValidInput(g: ModelGeometry, axis: number, size: number): boolean {
  const rest = size - (g.minInput[axis] as number);
  return rest >= 0 && rest % (g.step[axis] as number) === 0;
}
