/**
 * `bioimage-export predict --queue` (coordinator, in-process) + a `bioimage-export worker` child on
 * the real exported bundle: the output equals one onnxruntime pass over the whole volume; the
 * worker stops cleanly on SIGTERM; an unreachable Redis is a clear error.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import { LSD, maxAbsDiff, ROOT, readOutput, singlePass, workspace, writeRawZarr } from '../server/helpers.js';
import { SKIP_REASON, startRedis, type TestRedis } from './redis-server.js';

const SHAPE = [24, 40, 40];
let ws: ReturnType<typeof workspace>;
let redis: TestRedis;
let vol: Uint8Array;

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

describe.skipIf(SKIP_REASON !== undefined)('predict --queue', () => {
  beforeAll(async () => {
    redis = await startRedis();
    ws = workspace();
    vol = await writeRawZarr(join(ws.data, 'raw.zarr'), SHAPE, [8, 8, 8], 5);
  });
  afterAll(async () => {
    await redis?.stop();
    if (ws) rmSync(ws.dir, { recursive: true, force: true });
  });

  test('a worker computes the queued job; output = one onnxruntime pass; SIGTERM stops it cleanly', async () => {
    const worker = spawn(
      process.execPath,
      [join(ROOT, 'bin/bioimage-export.js'), 'worker', '--redis', redis.url, '--poll-ms', '100'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } },
    );
    let werr = '';
    worker.stderr.on('data', (d: Buffer) => {
      werr += d.toString();
    });
    const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    const output = join(ws.data, 'out.zarr/affs');
    const args = [
      'predict',
      '-m',
      join(ws.weights, LSD),
      '-i',
      join(ws.data, 'raw.zarr/volumes/raw'),
      '-o',
      output,
    ];
    const r = await cli([...args, '--block', '48,48,48', '--queue', redis.url, '-q']);
    expect(r.code, r.err + werr).toBe(0);
    expect(r.out).toMatch(/by 1 workers \(\d+ computed, 0 resumed, 0 retried\)/);
    const ref = await singlePass(join(ws.weights, LSD), vol, SHAPE);
    const out = await readOutput(output);
    expect(out.shape).toEqual(ref.shape);
    expect(maxAbsDiff(out.data, ref.data)).toBeLessThan(1e-5);
    // the same command again: everything is done, nothing is queued
    const again = await cli([...args, '--block', '48,48,48', '--queue', redis.url, '-q']);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/queued job \S+: 0 of (\d+) blocks \(\1 already done\)/);
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(werr).toMatch(/"event":"stop"/);
  }, 120_000);

  test('an unreachable Redis or a --roi is a clear usage error (exit 2)', async () => {
    const base = ['predict', '-m', join(ws.weights, LSD), '-i', join(ws.data, 'raw.zarr/volumes/raw')];
    const down = await cli([...base, '-o', join(ws.data, 'x.zarr'), '--queue', 'redis://127.0.0.1:1', '-q']);
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/\[RedisUnavailable\] cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    const roi = await cli([
      ...base,
      '-o',
      join(ws.data, 'y.zarr'),
      '--roi',
      '0:8,0:8,0:8',
      '--queue',
      redis.url,
    ]);
    expect(roi.code).toBe(2);
    expect(roi.err).toMatch(/--roi cannot be combined with --queue/);
    const w = await cli(['worker']);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/no Redis URL/);
  });
});
