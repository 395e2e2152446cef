import { beforeAll, describe, expect, it } from 'vitest';
import { packageBundle, testModelZip } from '../../exporters/index.js';
import { realBundle, tempDir, tinyBundle } from './bundles.js';

describe('testModelZip', () => {
  let realZip: string;
  beforeAll(async () => {
    realZip = (await packageBundle(realBundle(), { outDir: tempDir() })).zipPath;
  }, 180_000);

  it('passes a real package at k = 0, 1, 2 and batch 1, 2', async () => {
    const r = await testModelZip(realZip);
    expect(r.ok).toBe(true);
    const kinds = r.checks.map((c) => `${c.check}:${c.k}:${c.batch}`);
    expect(kinds).toEqual([
      'reproduce:-1:1',
      ...[0, 1, 2].flatMap((k) => [`shape:${k}:1`, `consistency:${k}:1`, `batch:${k}:2`]),
    ]);
    // sizes grow by the declared step; outputs follow the declared size reference
    const [s0, s1, s2] = r.checks.filter((c) => c.check === 'shape').map((c) => c.inputShape[2] as number);
    expect((s1 as number) - (s0 as number)).toBe((s2 as number) - (s1 as number));
    expect((s1 as number) > (s0 as number)).toBe(true);
    for (const c of r.checks.filter((c) => c.check === 'batch')) expect(c.outputShape[0]).toBe(2);
  });

  it('catches a network whose batch rows depend on each other', async () => {
    const zip = (await packageBundle(tinyBundle('batch-mix'), { outDir: tempDir() })).zipPath;
    const r = await testModelZip(zip);
    expect(r.ok).toBe(false);
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.check);
    expect(new Set(failed)).toEqual(new Set(['batch']));
  }, 60_000);

  it('catches an ONNX graph with fixed spatial sizes', async () => {
    const zip = (await packageBundle(tinyBundle('static'), { outDir: tempDir() })).zipPath;
    const r = await testModelZip(zip);
    expect(r.ok).toBe(false);
    const broken = r.checks.filter((c) => !c.ok);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.every((c) => c.check === 'shape' && c.error !== undefined)).toBe(true);
    // the test input's own size (k = 2 here) still runs
    expect(r.checks.find((c) => c.check === 'reproduce')?.ok).toBe(true);
  }, 60_000);
});
