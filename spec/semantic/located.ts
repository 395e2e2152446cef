/** Inputs and outputs with where they sit in the description (for JSON pointers). */

import type { ModelDescr } from '../model.js';
import { type AnyTensor, inputId, outputId } from '../tensors.js';

export type Kind = 'inputs' | 'outputs';
export interface Located {
  kind: Kind;
  index: number;
  id: string;
  tensor: AnyTensor;
}

export function tensorsOf(d: ModelDescr): Located[] {
  return [
    ...d.inputs.map((t, index) => ({ kind: 'inputs' as const, index, id: inputId(t), tensor: t })),
    ...d.outputs.map((t, index) => ({ kind: 'outputs' as const, index, id: outputId(t), tensor: t })),
  ];
}
