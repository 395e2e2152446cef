/** Per-neuron transmitter votes against emzoo.evaluate.synister.score_classes, and by hand. */
import { describe, expect, test } from 'vitest';
import { neuronVotes, scoreClasses } from '../../pipelines/synister/index.js';
import { f64, i32, numbers, random, runPython } from './helpers.js';

describe('synister per neuron', () => {
  test('by hand: summed probabilities outvote the per-synapse majority', () => {
    // neuron 7: two weak votes for class 0, one strong vote for class 1 → sums (1.2, 1.8)
    const probs = [
      [0.55, 0.45],
      [0.55, 0.45],
      [0.1, 0.9],
      [0.3, 0.7],
    ];
    const votes = neuronVotes(probs, [7, 7, 7, 3]);
    expect(votes.map((v) => [v.neuron, v.classIndex, v.synapses])).toEqual([
      [3, 1, 1],
      [7, 1, 3],
    ]);
    expect(votes[1]?.summed[0]).toBeCloseTo(1.2, 12);
    const s = scoreClasses(probs, [0, 0, 0, 1], [7, 7, 7, 3]);
    // classes 0, 0, 0, 1 vs per-synapse argmax 0, 0, 1, 1
    expect(s.synapse_accuracy).toBe(0.75);
    expect(s.synapse_balanced_accuracy).toBeCloseTo((2 / 3 + 1) / 2, 15);
    // neuron 7 (class 0) voted 1: wrong; neuron 3 right
    expect(s.neuron_accuracy).toBe(0.5);
  });

  test.each([1, 2])('equals score_classes on random data (seed %i)', async (seed) => {
    const rnd = random(seed);
    const n = 200;
    const k = 6;
    const neurons = Array.from({ length: n }, () => Math.floor(rnd() * 25));
    const classOf = Array.from({ length: 25 }, () => Math.floor(rnd() * k));
    const classes = neurons.map((id) => classOf[id] as number);
    const probs = classes.map((c) => {
      const raw = Array.from({ length: k }, (_, j) => rnd() + (j === c ? 0.6 : 0));
      const s = raw.reduce((a, b) => a + b, 0);
      return raw.map((v) => v / s);
    });
    const py = await runPython(
      {
        p: f64([n, k], Float64Array.from(probs.flat())),
        c: i32([n], Int32Array.from(classes)),
        nid: i32([n], Int32Array.from(neurons)),
      },
      `
from emzoo.evaluate.synister import score_classes
s = score_classes(p, c, nid)
out['v'] = np.array([s[k] for k in ['synapse_accuracy','synapse_balanced_accuracy','neuron_accuracy','synapses','neurons']])
`,
    );
    const s = scoreClasses(probs, classes, neurons);
    const got = [s.synapse_accuracy, s.synapse_balanced_accuracy, s.neuron_accuracy, s.synapses, s.neurons];
    const ref = numbers(py.v as never);
    for (const [i, g] of got.entries()) expect(Math.abs(g - (ref[i] as number))).toBeLessThan(1e-9);
    expect(s.neuron_accuracy).toBeGreaterThan(s.synapse_accuracy);
  });
});
