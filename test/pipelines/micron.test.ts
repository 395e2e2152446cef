/**
 * Micron: NMS candidates and the track ILP (HiGHS) on hand-made cases, soft-mask scores against
 * emzoo.evaluate.micron.score_soft_mask to 1e-9.
 */
import { describe, expect, test } from 'vitest';
import {
  candidateGraph,
  lineEvidence,
  nmsCandidates,
  scoreSoftMask,
  solveTracks,
  tracksFromEdges,
  trackVariables,
} from '../../pipelines/micron/index.js';
import { f32, i32, numbers, random, runPython } from './helpers.js';

type S3 = [number, number, number];

describe('NMS candidates', () => {
  test('one candidate per [1,10,10] block above threshold; touching block maxima keep the larger', () => {
    const shape: S3 = [1, 4, 30];
    const soft = new Float32Array(120);
    const at = (y: number, x: number) => y * 30 + x;
    soft[at(1, 3)] = 0.9; // block x 0..9: its max
    soft[at(2, 5)] = 0.8; // same block, smaller: no
    soft[at(2, 9)] = 0.9; // block x 0..9 ties 0.9 with (1,3)? no: (1,3) and (2,9) both equal the block max
    soft[at(2, 10)] = 0.95; // block x 10..19: its max, touches (2, 9) → (2, 9) is suppressed
    soft[at(0, 25)] = 0.4; // block x 20..29: below threshold
    expect(nmsCandidates({ shape, data: soft })).toEqual([at(1, 3), at(2, 10)]);
  });

  test('SAME padding: a 15-long axis is split 0..7 | 8..14 (⌊5/2⌋ = 2 voxels of padding before)', () => {
    const shape: S3 = [1, 1, 15];
    const soft = new Float32Array(15);
    soft[6] = 0.7;
    soft[7] = 0.6; // same block as 6
    soft[12] = 0.8;
    expect(nmsCandidates({ shape, data: soft })).toEqual([6, 12]);
  });
});

/** A bright straight line along x at (z 1, y 10) peaking (0.9) at x = 5, 15, 25, … */
function lineScene(length: number): { shape: S3; soft: Float32Array } {
  const shape: S3 = [3, 20, length];
  const soft = new Float32Array(3 * 20 * length);
  for (let x = 0; x < length; x++) soft[(1 * 20 + 10) * length + x] = 0.9 - 0.02 * Math.abs((x % 10) - 5);
  return { shape, soft };
}

describe('track ILP', () => {
  test('a long straight line becomes one track in order; a short one is not worth its two ends', async () => {
    const { shape, soft } = lineScene(120);
    const cands = nmsCandidates({ shape, data: soft });
    expect(cands.length).toBe(12);
    const graph = candidateGraph({ shape, data: soft }, cands, { voxelSize: [40, 4, 4], maxDistance: 45 });
    expect(graph.edges.length).toBe(11); // neighbours only: 40 nm apart
    // 1 − soft along x = 5..15 is 0.1 + 0.02 · (0 1 2 3 4 5 4 3 2 1 0): mean 0.1 + 0.02 · 25 / 11
    for (const e of graph.evidence) expect(e).toBeCloseTo(0.1 + (0.02 * 25) / 11, 6);
    const tracks = tracksFromEdges(graph, await solveTracks(graph));
    // ends: 2 · (2·180 − 80 + 12·0.15) ≈ 564; 10 continuations at −80 + 12·0.15 each → total < 0
    expect(tracks).toHaveLength(1);
    expect(tracks[0]?.closed).toBe(false);
    expect(tracks[0]?.points.map((p) => p[2])).toEqual(cands.map((_, k) => (5 + 10 * k) * 4));
    expect(tracks[0]?.points[0]).toEqual([40, 40, 20]);
    // 4 candidates: 564 − 2 · 78 > 0 → nothing selected with Micron's costs; a track without the end prior
    const short = lineScene(40);
    const g2 = candidateGraph(
      { shape: short.shape, data: short.soft },
      nmsCandidates({ shape: short.shape, data: short.soft }),
      {
        voxelSize: [40, 4, 4],
        maxDistance: 45,
      },
    );
    expect(await solveTracks(g2)).toEqual([]);
    // with a start prior of 10: track ≈ −273 beats four lone vertices (4 · (40 − 80) = −160)
    expect(await solveTracks(g2, { startPrior: 10 })).toEqual([0, 1, 2]);
  });

  test('degree ≤ 2 and the straight continuation wins over a bend', async () => {
    // a star: centre 0 at the origin, 1 and 2 on a straight line through it, 3 at a right angle
    const graph = {
      voxels: [] as S3[],
      nm: [
        [0, 0, 0],
        [0, 0, 10],
        [0, 0, -10],
        [0, 10, 0],
      ] as S3[],
      edges: [
        [0, 1],
        [0, 2],
        [0, 3],
      ] as [number, number][],
      evidence: [0, 0, 0],
    };
    const costs = { startPrior: 10, selectionCost: -30, angleFactor: 14 };
    // straight 1-0-2: ends 2·(20 − 30) + centre −30 = −50; a right angle costs (14·π/2)² ≈ 484 more;
    // 3 alone would cost 4·10 − 30 > 0
    expect(await solveTracks(graph, costs)).toEqual([0, 1]);
    const vars = trackVariables(graph, costs);
    // centre 0: alone, 3 ends, 3 pairs; others: alone + 1 end each
    expect(vars.filter((v) => v.center === 0)).toHaveLength(7);
    expect(vars).toHaveLength(7 + 3 * 2);
    const straight = vars.find((v) => v.center === 0 && v.edges.join() === '0,1');
    expect(straight?.cost).toBeCloseTo(-30, 9);
  });

  test('a dense random candidate cloud: every candidate keeps degree ≤ 2', async () => {
    const rnd = random(5);
    const nm = Array.from({ length: 40 }, (): S3 => [rnd() * 200, rnd() * 200, rnd() * 200]);
    const edges: [number, number][] = [];
    for (let a = 0; a < nm.length; a++)
      for (let b = a + 1; b < nm.length; b++) {
        const [p, q] = [nm[a] as S3, nm[b] as S3];
        if (Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < 90) edges.push([a, b]);
      }
    const graph = { voxels: [], nm, edges, evidence: edges.map(() => rnd() * 0.2) };
    // selecting is cheap and bends are cheap: the solver wants as many edges as the degrees allow
    const selected = await solveTracks(graph, { startPrior: 5, selectionCost: -100, angleFactor: 1 });
    const degree = new Array<number>(nm.length).fill(0);
    for (const e of selected)
      for (const v of edges[e] as [number, number]) degree[v] = (degree[v] as number) + 1;
    expect(Math.max(...degree)).toBe(2);
    expect(edges.length).toBeGreaterThan(2 * nm.length); // the constraint is what limits the degrees
    expect(selected.length).toBeGreaterThan(nm.length / 2);
  });

  test('tracks: paths walked from an end, cycles closed', () => {
    const nm: S3[] = [0, 1, 2, 3, 4, 5, 6].map((k) => [0, 0, 10 * k]);
    const edges: [number, number][] = [
      [0, 1],
      [1, 2],
      [2, 3],
      [0, 3],
      [4, 6],
      [5, 6],
    ];
    const graph = { voxels: [], nm, edges, evidence: edges.map(() => 0) };
    expect(tracksFromEdges(graph, [0, 1, 2, 3, 4, 5])).toEqual([
      { points: [nm[4], nm[6], nm[5]], closed: false },
      { points: [nm[0], nm[1], nm[2], nm[3], nm[0]], closed: true },
    ]);
    expect(tracksFromEdges(graph, [4])).toEqual([{ points: [nm[4], nm[6]], closed: false }]);
  });

  test('line evidence averages 1 − soft along the voxels between the ends', () => {
    const soft = Float32Array.from([0, 0.5, 1, 1]);
    expect(lineEvidence({ shape: [1, 1, 4], data: soft }, [0, 0, 0], [0, 0, 3])).toBeCloseTo(
      (1 + 0.5 + 0 + 0) / 4,
      7,
    );
  });
});

describe('soft-mask scores', () => {
  test.each([1, 2])('equal score_soft_mask (seed %i)', async (seed) => {
    const shape: S3 = [6, 30, 30];
    const n = 6 * 30 * 30;
    const rnd = random(seed);
    const tracks = new Int32Array(n);
    for (let x = 3; x < 27; x++) tracks[(2 * 30 + 12) * 30 + x] = 1;
    for (let z = 0; z < 6; z++) tracks[(z * 30 + 5) * 30 + 20] = 1;
    const soft = Float32Array.from({ length: n }, (_, i) =>
      tracks[i] && rnd() < 0.8 ? 0.6 + 0.4 * rnd() : rnd() * 0.55,
    );
    const py = await runPython(
      { soft: f32(shape, soft), tracks: i32(shape, tracks) },
      `
from emzoo.evaluate.micron import score_soft_mask
s = score_soft_mask(soft, tracks > 0, (40, 4, 4), 0.5, 20.0)
out['v'] = np.array([s[k] for k in ['soft_mask_precision','soft_mask_recall','soft_mask_f1','predicted_voxels','track_voxels']])
`,
    );
    const s = scoreSoftMask({ shape, data: soft }, tracks, {
      voxelSize: [40, 4, 4],
      threshold: 0.5,
      toleranceNm: 20,
    });
    const got = [
      s.soft_mask_precision,
      s.soft_mask_recall,
      s.soft_mask_f1,
      s.predicted_voxels,
      s.track_voxels,
    ];
    const ref = numbers(py.v as never);
    for (const [k, g] of got.entries()) expect(Math.abs(g - (ref[k] as number))).toBeLessThan(1e-9);
    expect(s.soft_mask_precision).toBeGreaterThan(0);
    expect(s.soft_mask_precision).toBeLessThan(1);
  });
});
