/**
 * Synister per neuron (originals §4.3), as emzoo.evaluate.synister.score_classes: a neuron's
 * class is the argmax of the summed class probabilities of its synapses (first class on ties);
 * synapse accuracy, class-balanced synapse accuracy and neuron accuracy against known classes.
 */
import { PipelineInputError } from '../errors.js';

export interface NeuronVote {
  readonly neuron: number;
  readonly synapses: number;
  /** Index of the winning class. */
  readonly classIndex: number;
  /** Summed probabilities per class. */
  readonly summed: number[];
}

const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let k = 1; k < xs.length; k++) if ((xs[k] as number) > (xs[best] as number)) best = k;
  return best;
};

function check(probabilities: readonly (readonly number[])[], n: number, what: string): number {
  const k = probabilities[0]?.length ?? 0;
  if (probabilities.length !== n || probabilities.some((p) => p.length !== k) || (n > 0 && k === 0)) {
    throw new PipelineInputError(
      'synapse probabilities',
      `need one row of equal length per synapse (${n} ${what}), got ${probabilities.length} rows`,
      'pass an (N, classes) array and one neuron id per synapse',
    );
  }
  return k;
}

/** Votes per neuron, sorted by neuron id. */
export function neuronVotes(
  probabilities: readonly (readonly number[])[],
  neurons: readonly number[],
): NeuronVote[] {
  const k = check(probabilities, neurons.length, 'neuron ids');
  const byNeuron = new Map<number, { summed: number[]; synapses: number }>();
  neurons.forEach((id, i) => {
    let v = byNeuron.get(id);
    if (v === undefined) {
      v = { summed: new Array<number>(k).fill(0), synapses: 0 };
      byNeuron.set(id, v);
    }
    const row = probabilities[i] as readonly number[];
    for (let c = 0; c < k; c++) v.summed[c] = (v.summed[c] as number) + (row[c] as number);
    v.synapses++;
  });
  return [...byNeuron.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([neuron, v]) => ({ neuron, synapses: v.synapses, classIndex: argmax(v.summed), summed: v.summed }));
}

export interface ClassScores {
  readonly synapse_accuracy: number;
  readonly synapse_balanced_accuracy: number;
  readonly neuron_accuracy: number;
  readonly synapses: number;
  readonly neurons: number;
}

/** `classes`: the known class of every synapse (all synapses of a neuron share it). */
export function scoreClasses(
  probabilities: readonly (readonly number[])[],
  classes: readonly number[],
  neurons: readonly number[],
): ClassScores {
  check(probabilities, classes.length, 'classes');
  check(probabilities, neurons.length, 'neuron ids');
  const correct = probabilities.map((p, i) => argmax(p) === classes[i]);
  const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const perClass = [...new Set(classes)]
    .sort((a, b) => a - b)
    .map((k) => mean(correct.flatMap((ok, i) => (classes[i] === k ? [ok ? 1 : 0] : []))));
  const neuronClass = new Map<number, number>();
  for (const [i, id] of neurons.entries()) neuronClass.set(id, classes[i] as number); // last one wins, as numpy's
  const votes = neuronVotes(probabilities, neurons);
  return {
    synapse_accuracy: mean(correct.map((ok) => (ok ? 1 : 0))),
    synapse_balanced_accuracy: mean(perClass),
    neuron_accuracy: mean(votes.map((v) => (v.classIndex === neuronClass.get(v.neuron) ? 1 : 0))),
    synapses: classes.length,
    neurons: votes.length,
  };
}
