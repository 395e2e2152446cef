/**
 * The preprocessing our RDFs declare, applied in TS exactly as a consumer would (float32 math):
 * scale_linear (x·gain + offset) — the one op both bioimageio.core and deepImageJ/JDLL support that
 * reproduces the originals' uint8 → [-1, 1] normalisation.
 */
import { type Float32Nd, float32 } from './npy.js';

export interface ScaleLinear {
  readonly gain: number;
  readonly offset: number;
}

export function applyScaleLinear(t: Float32Nd, { gain, offset }: ScaleLinear): Float32Nd {
  const out = new Float32Array(t.data.length);
  const g = Math.fround(gain);
  const o = Math.fround(offset);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.fround(t.data[i] * g) + o);
  return float32(t.shape, out);
}
