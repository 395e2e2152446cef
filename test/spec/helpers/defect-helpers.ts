/** Shared pieces for the defect lists: the Defect shape and fixture accessors. */

import type { Fixture, Json } from './model-fixture.js';
import { seededValues, writeNpy } from './npy-write.js';

export interface Defect {
  readonly name: string;
  readonly level: 'schema' | 'semantic';
  readonly apply: (fx: Fixture) => void;
}

export const inp = (fx: Fixture): Json => fx.rdf.inputs[0];
export const out = (fx: Fixture): Json => fx.rdf.outputs[0];
export const spaceIn = (fx: Fixture, id: string): Json => inp(fx).axes.find((a: Json) => a.id === id);
export const spaceOut = (fx: Fixture, id: string): Json => out(fx).axes.find((a: Json) => a.id === id);
export const anyWeights = (fx: Fixture): Json => Object.values(fx.rdf.weights)[0];

/** Rewrite a test tensor with a new shape (values not near zero). */
export function retensor(
  fx: Fixture,
  name: string,
  shape: number[],
  dtype: 'float32' | 'uint8' | 'float16' = 'float32',
  scale = 1,
): void {
  const n = shape.reduce((a, b) => a * b, 1);
  fx.files.set(name, writeNpy(seededValues(n, 5, 0.2 * scale, scale), shape, dtype));
}

export function shapeOf(fx: Fixture, which: 'in' | 'out'): number[] {
  const axes = (which === 'in' ? inp(fx) : out(fx)).axes as Json[];
  const spatial = axes
    .filter((a) => a.type === 'space')
    .map((a) => ({ z: 12, y: 24, x: 16 })[a.id as 'z' | 'y' | 'x']);
  const ch = axes.find((a) => a.type === 'channel').channel_names.length;
  return [1, ch, ...spatial];
}
