/**
 * The README's main job: `scripts/demo.sh` (without its final `serve`) packages every committed
 * bundle, validates and tests each zip, and runs synth → predict → postprocess on the LSD demo
 * bundle. It runs for real here so the README's first command stays true as bundles change.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { bundleDirs } from '../../cli/bundles.js';
import { ROOT } from '../exporters/bundles.js';

it.skipIf(!existsSync(join(ROOT, '.venv/bin/emzoo')))(
  'scripts/demo.sh packages, checks and post-processes the committed bundles',
  async () => {
    const r = await new Promise<{ code: number; out: string }>((done) => {
      execFile(
        'bash',
        ['scripts/demo.sh'],
        { cwd: ROOT, env: { ...process.env, DEMO_SERVE: '0' }, maxBuffer: 64 << 20 },
        (err, stdout, stderr) =>
          done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
      );
    });
    expect(r.code, r.out.slice(-4000)).toBe(0);
    const ids = bundleDirs(join(ROOT, 'weights')).map((d) => d.split('/').pop() as string);
    const zips = readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.zip'));
    for (const id of ids) {
      expect(zips).toContain(`${id}.zip`);
      expect(r.out).toContain(`== validate and test dist/${id}.zip ==`);
    }
    const scores = /adapted Rand error (\d+\.\d+)/.exec(r.out);
    expect(scores, r.out.slice(-2000)).not.toBeNull();
    const are = Number(scores?.[1]);
    expect(are).toBeGreaterThanOrEqual(0);
    expect(are).toBeLessThan(1);
  },
  600_000,
);
