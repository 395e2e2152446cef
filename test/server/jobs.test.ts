/**
 * Volume jobs end to end on real zarr: submit (202), progress over server-sent events, output equal
 * to one onnxruntime pass over the whole volume, cancel, and a server killed mid-job (SIGKILL)
 * whose restart resumes the job from its done log and completes it with the same output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { NdArray } from '../../runtime/index.js';
import type { RunningServer } from '../../server/index.js';
import {
  checkAgainstOpenApi,
  LSD,
  maxAbsDiff,
  readOutput,
  singlePass,
  spawnServer,
  startTestServer,
  TOKEN,
  testConfig,
  workspace,
  writeRawZarr,
} from './helpers.js';

const SHAPE = [32, 48, 48];
const BLOCK = [48, 48, 48]; // output stride 8 → 4·6·6 = 144 blocks
const auth = { authorization: `Bearer ${TOKEN}` };

let ws: ReturnType<typeof workspace>;
let reference: NdArray<'float32'>;

beforeAll(async () => {
  ws = workspace();
  const vol = await writeRawZarr(join(ws.data, 'raw.zarr'), SHAPE, [8, 8, 8], 7);
  reference = await singlePass(join(ws.weights, LSD), vol, SHAPE);
});

async function submit(url: string, output: string) {
  const r = await fetch(`${url}/jobs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ model: LSD, input: 'raw.zarr/volumes/raw', output, block: BLOCK }),
  });
  const body = await r.json();
  expect(r.status, JSON.stringify(body)).toBe(202);
  checkAgainstOpenApi('POST', '/jobs', 202, body);
  expect(r.headers.get('location')).toBe(`/jobs/${body.id}`);
  return body as { id: string; state: string };
}

async function job(url: string, id: string) {
  const r = await fetch(`${url}/jobs/${id}`, { headers: auth });
  const body = await r.json();
  checkAgainstOpenApi('GET', '/jobs/{id}', r.status, body);
  return body;
}

async function waitFor<T>(fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectReference(path: string) {
  const out = await readOutput(path);
  expect(out.shape).toEqual(reference.shape);
  expect(maxAbsDiff(out.data, reference.data)).toBeLessThan(1e-5);
  const ome = out.attrs.ome as {
    multiscales: { datasets: { coordinateTransformations: { scale?: number[] }[] }[] }[];
  };
  expect(ome.multiscales[0]?.datasets[0]?.coordinateTransformations[0]?.scale).toEqual([1, 8, 8, 8]);
}

describe('jobs on one server', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startTestServer(testConfig(ws));
  });
  afterAll(async () => {
    await srv?.close();
  });

  test('submit → progress over SSE → succeeded, output equals one onnxruntime pass', async () => {
    const { id } = await submit(srv.url, 'out1.zarr');
    const res = await fetch(`${srv.url}/jobs/${id}/events`, { headers: auth });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events: {
      event: string;
      data: { state: string; blocksDone: number; blocksTotal: number | null; etaSeconds: number | null };
    }[] = [];
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (\w+)$/m.exec(msg)?.[1];
        const data = /^data: (.*)$/m.exec(msg)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        i = buf.indexOf('\n\n');
      }
    }
    const last = events.at(-1);
    expect(last?.event).toBe('end');
    expect(last?.data.state).toBe('succeeded');
    expect(last?.data.blocksDone).toBe(144);
    const progress = events.filter(
      (e) => e.event === 'progress' && e.data.state === 'running' && e.data.blocksTotal === 144,
    );
    expect(progress.length).toBeGreaterThan(10);
    const done = progress.map((e) => e.data.blocksDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(progress.some((e) => (e.data.etaSeconds ?? -1) > 0)).toBe(true);
    await expectReference(join(ws.data, 'out1.zarr'));
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/emzoo_blocks_processed_total\{model="lsd-small-mtlsd",source="job"\} 144/);
    expect(metrics).toMatch(/emzoo_jobs\{state="succeeded"\} 1/);
  }, 120_000);

  test('cancel stops a running job; a second cancel is a conflict', async () => {
    const { id } = await submit(srv.url, 'out2.zarr');
    await waitFor(async () => ((await job(srv.url, id)).blocksDone >= 3 ? true : undefined));
    const r = await fetch(`${srv.url}/jobs/${id}`, { method: 'DELETE', headers: auth });
    const body = await r.json();
    expect(r.status).toBe(200);
    checkAgainstOpenApi('DELETE', '/jobs/{id}', 200, body);
    expect(body.state).toBe('cancelled');
    expect(body.blocksDone).toBeLessThan(144);
    const again = await fetch(`${srv.url}/jobs/${id}`, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(409);
    const persisted = JSON.parse(readFileSync(join(ws.jobs, `${id}.json`), 'utf8'));
    expect(persisted.state).toBe('cancelled');
    const list = await (await fetch(`${srv.url}/jobs`, { headers: auth })).json();
    checkAgainstOpenApi('GET', '/jobs', 200, list);
    expect(list.jobs.map((j: { id: string }) => j.id)).toContain(id);
  }, 120_000);
});

test('a server killed mid-job resumes the job on restart and completes it', async () => {
  const jobsDir = join(ws.dir, 'jobs-restart');
  const args = ['--models-dir', ws.weights, '--data-root', ws.data, '--jobs-dir', jobsDir, '--token', TOKEN];
  const first = await spawnServer(args);
  let id: string;
  let atKill: number;
  try {
    id = (await submit(first.url, 'out3.zarr')).id;
    atKill = await waitFor(async () => {
      const j = await job(first.url, id);
      return j.blocksDone >= 30 ? (j.blocksDone as number) : undefined;
    });
  } finally {
    first.child.kill('SIGKILL');
  }
  await new Promise((r) => first.child.once('exit', r));
  const onDisk = JSON.parse(readFileSync(join(jobsDir, `${id}.json`), 'utf8'));
  expect(onDisk.state).toBe('running');
  expect(onDisk.blocksDone).toBeLessThan(144);

  const second = await spawnServer(args);
  try {
    const final = await waitFor(async () => {
      const j = await job(second.url, id);
      return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
    }, 90_000);
    expect(final.state, JSON.stringify(final.error)).toBe('succeeded');
    expect(final.attempts).toBe(2);
    expect(final.blocksDone).toBe(144);
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
  // Resumed, not restarted: each block logged once, apart from the few in flight at the kill.
  const log = readFileSync(join(ws.data, 'out3.zarr.done.jsonl'), 'utf8').trim().split('\n').slice(1);
  expect(new Set(log.map((l) => JSON.parse(l).block)).size).toBe(144);
  expect(log.length).toBeLessThanOrEqual(144 + 2);
  expect(atKill).toBeGreaterThanOrEqual(30);
  await expectReference(join(ws.data, 'out3.zarr'));
}, 180_000);
