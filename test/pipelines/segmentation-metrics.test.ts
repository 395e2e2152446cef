/** VOI and adapted Rand error against emzoo.evaluate.segmentation_metrics, to 1e-9, and by hand. */
import { describe, expect, test } from 'vitest';
import { segmentationScores, voi } from '../../pipelines/segmentation/index.js';
import { i32, numbers, random, runPython, voronoiLabels } from './helpers.js';

describe('segmentation metrics', () => {
  test('identical segmentations score perfectly; one merge costs only merge VOI', () => {
    const gt = Int32Array.from([1, 1, 2, 2]);
    expect(segmentationScores(gt, Int32Array.from([7, 7, 3, 3]))).toEqual({
      voi_split: 0,
      voi_merge: 0,
      voi: 0,
      adapted_rand_error: 0,
      rand_precision: 1,
      rand_recall: 1,
    });
    // both objects merged: H(gt | seg) = 1 bit
    expect(voi(gt, Int32Array.from([5, 5, 5, 5]))).toEqual([0, 1]);
    // pairs: Σn² − n = 8 − 4 = 4 (both), Σa² − n = 4, Σb² − n = 12 → error 1 − 4 / 8
    expect(segmentationScores(gt, Int32Array.from([5, 5, 5, 5])).adapted_rand_error).toBeCloseTo(0.5, 12);
  });

  test('unlabelled ground truth (0) is ignored', () => {
    expect(voi(Int32Array.from([0, 0, 1, 1]), Int32Array.from([1, 2, 3, 3]))).toEqual([0, 0]);
  });

  test.each([1, 2, 3])('random volumes equal the Python reference to 1e-9 (seed %i)', async (seed) => {
    const shape = [8, 16, 16] as const;
    const gt = voronoiLabels(shape, 12, seed);
    const seg = voronoiLabels(shape, 20, seed + 50);
    const rnd = random(seed);
    for (let i = 0; i < gt.length; i++) if (rnd() < 0.1) gt[i] = 0; // some unlabelled voxels
    const py = await runPython(
      { gt: i32(shape, gt), seg: i32(shape, seg) },
      `
from emzoo.evaluate.segmentation_metrics import segmentation_scores
s = segmentation_scores(gt, seg)
out['v'] = np.array([s[k] for k in ['voi_split','voi_merge','voi','adapted_rand_error','rand_precision','rand_recall']])
`,
    );
    const ts = segmentationScores(gt, seg);
    const ref = numbers(py.v as never);
    const got = [
      ts.voi_split,
      ts.voi_merge,
      ts.voi,
      ts.adapted_rand_error,
      ts.rand_precision,
      ts.rand_recall,
    ];
    for (const [k, g] of got.entries()) expect(Math.abs(g - (ref[k] as number))).toBeLessThan(1e-9);
    expect(ts.voi).toBeGreaterThan(0.5);
  });
});
