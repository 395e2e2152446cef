/**
 * A table of bad requests, each answered with the right 4xx and a JSON {code, message, hint} that
 * matches openapi.json, and the server still healthy afterwards; plus 429/503 with Retry-After.
 */

import { mkdirSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeNpy } from '../../runtime/index.js';
import type { RunningServer } from '../../server/index.js';
import {
  CLASSES,
  checkAgainstOpenApi,
  LSD,
  startTestServer,
  TOKEN,
  testConfig,
  workspace,
  writeRawZarr,
} from './helpers.js';

let srv: RunningServer;
let ws: ReturnType<typeof workspace>;
const LIMIT = 8 * 2 ** 20;

beforeAll(async () => {
  ws = workspace();
  await writeRawZarr(join(ws.data, 'raw.zarr'), [8, 8, 8], [8, 8, 8]);
  await writeRawZarr(join(ws.data, 'raw4.zarr'), [8, 8, 8], [4, 4, 4]);
  mkdirSync(join(ws.dir, 'outside.zarr'));
  symlinkSync(join(ws.dir, 'outside.zarr'), join(ws.data, 'escape.zarr'));
  srv = await startTestServer(testConfig(ws, { maxBodyBytes: LIMIT, maxConcurrent: 1, maxQueue: 0 }));
});
afterAll(async () => {
  await srv?.close();
});

const json = (v: unknown) => JSON.stringify(v);
const tensor = (shape: number[], datatype = 'FP32', extra: Record<string, unknown> = {}) => ({
  inputs: [
    { name: 'raw', datatype, shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(1), ...extra },
  ],
});
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const binary = (headerJson: unknown, bytes: number, headerLength?: string) => {
  const head = Buffer.from(JSON.stringify(headerJson));
  return {
    body: Buffer.concat([head, Buffer.alloc(bytes)]),
    headers: { 'Inference-Header-Content-Length': headerLength ?? String(head.length) },
  };
};

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly template: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly hint?: RegExp;
}

const INFER = '/v2/models/{id}/infer';
const CASES: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: '{"inputs": [',
    status: 400,
    code: 'MalformedRequest',
  },
  {
    name: 'no inputs',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json({ outputs: [] }),
    status: 400,
    code: 'MalformedRequest',
  },
  {
    name: 'unsupported datatype',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json(tensor([1, 1, 44, 44, 44], 'BYTES')),
    status: 400,
    code: 'InvalidTensor',
    hint: /FP32/,
  },
  {
    name: 'wrong rank',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json(tensor([1, 44, 44, 44])),
    status: 400,
    code: 'InvalidTensor',
    hint: /\[44,44,44\] \+ k·\[4,4,4\]/,
  },
  {
    name: 'wrong channels',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json(tensor([1, 2, 44, 44, 44])),
    status: 400,
    code: 'InvalidTensor',
  },
  {
    name: 'below minimum size',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json(tensor([1, 1, 20, 44, 44])),
    status: 400,
    code: 'InvalidTensor',
    hint: /\[44,44,44\] \+ k·\[4,4,4\]/,
  },
  {
    name: 'class model at a size it cannot take',
    method: 'POST',
    path: `/v2/models/${CLASSES}/infer`,
    template: INFER,
    body: json(tensor([1, 1, 9, 16, 16])),
    status: 400,
    code: 'InvalidTensor',
    hint: /exactly \[8,16,16\]/,
  },
  {
    name: 'data shorter than shape',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json({ inputs: [{ name: 'raw', datatype: 'FP32', shape: [1, 1, 44, 44, 44], data: [1, 2] }] }),
    status: 400,
    code: 'MalformedRequest',
  },
  {
    name: 'wrong input name',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
    status: 400,
    code: 'InvalidTensor',
    hint: /"raw"/,
  },
  {
    name: 'bad output_mode',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json({ ...tensor([1, 1, 44, 44, 44]), parameters: { output_mode: 'mirror' } }),
    status: 400,
    code: 'InvalidArgument',
    hint: /valid, zero, reflect, edge/,
  },
  {
    name: 'unknown output_datatype',
    method: 'POST',
    path: `/v2/models/${LSD}/infer`,
    template: INFER,
    body: json({ ...tensor([1, 1, 44, 44, 44]), parameters: { output_datatype: 'INT8' } }),
    status: 400,
    code: 'InvalidArgument',
    hint: /FP32, FP16, UINT8/,
  },
  {
    name: 'UINT8 output of a class model',
    method: 'POST',
    path: `/v2/models/${CLASSES}/infer`,
    template: INFER,
    body: json({ ...tensor([1, 1, 8, 16, 16]), parameters: { output_datatype: 'UINT8' } }),
    status: 400,
    code: 'InvalidArgument',
    hint: /FP32/,
  },
  {
    name: '/predict ?dtype=int8',
    method: 'POST',
    path: `/predict/${LSD}?dtype=int8`,
    template: '/predict/{id}',
    body: 'x',
    status: 400,
    code: 'InvalidArgument',
    hint: /float32, float16 or uint8/,
  },
  {
    name: 'model version 2',
    method: 'GET',
    path: `/v2/models/${LSD}/versions/2`,
    template: '/v2/models/{id}/versions/{v}',
    status: 404,
    code: 'ModelNotFound',
  },
  (() => {
    const b = binary(
      {
        inputs: [
          {
            name: 'raw',
            datatype: 'FP32',
            shape: [1, 1, 44, 44, 44],
            parameters: { binary_data_size: 4 * 44 ** 3 },
          },
        ],
      },
      4 * 44 ** 3,
      '99999999',
    );
    return {
      name: 'header length beyond body',
      method: 'POST',
      path: `/v2/models/${LSD}/infer`,
      template: INFER,
      body: b.body,
      headers: b.headers,
      status: 400,
      code: 'MalformedRequest',
    };
  })(),
  (() => {
    const b = binary(
      {
        inputs: [
          {
            name: 'raw',
            datatype: 'FP32',
            shape: [1, 1, 44, 44, 44],
            parameters: { binary_data_size: 4 * 44 ** 3 },
          },
        ],
      },
      4 * 44 ** 3,
      'abc',
    );
    return {
      name: 'header length not a number',
      method: 'POST',
      path: `/v2/models/${LSD}/infer`,
      template: INFER,
      body: b.body,
      headers: b.headers,
      status: 400,
      code: 'MalformedRequest',
    };
  })(),
  (() => {
    const b = binary(
      {
        inputs: [
          { name: 'raw', datatype: 'FP32', shape: [1, 1, 44, 44, 44], parameters: { binary_data_size: 12 } },
        ],
      },
      12,
    );
    return {
      name: 'binary_data_size ≠ shape bytes',
      method: 'POST',
      path: `/v2/models/${LSD}/infer`,
      template: INFER,
      body: b.body,
      headers: b.headers,
      status: 400,
      code: 'MalformedRequest',
    };
  })(),
  (() => {
    const b = binary(
      {
        inputs: [
          {
            name: 'raw',
            datatype: 'UINT8',
            shape: [1, 1, 44, 44, 44],
            parameters: { binary_data_size: 44 ** 3 },
          },
        ],
      },
      44 ** 3 + 5,
    );
    return {
      name: 'unclaimed trailing bytes',
      method: 'POST',
      path: `/v2/models/${LSD}/infer`,
      template: INFER,
      body: b.body,
      headers: b.headers,
      status: 400,
      code: 'MalformedRequest',
    };
  })(),
  {
    name: 'unknown model',
    method: 'POST',
    path: '/v2/models/nope/infer',
    template: INFER,
    body: json(tensor([1])),
    status: 404,
    code: 'ModelNotFound',
    hint: /lsd-small-mtlsd, tiny-classes/,
  },
  {
    name: 'traversal model id',
    method: 'GET',
    path: '/models/..%2F..%2Fetc',
    template: '/models/{id}',
    status: 404,
    code: 'ModelNotFound',
  },
  {
    name: 'malformed npy',
    method: 'POST',
    path: `/predict/${LSD}`,
    template: '/predict/{id}',
    body: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    status: 400,
    code: 'InvalidNpy',
  },
  {
    name: 'npy of the wrong rank',
    method: 'POST',
    path: `/predict/${LSD}`,
    template: '/predict/{id}',
    body: encodeNpy({ dtype: 'uint8', shape: [4, 4], data: new Uint8Array(16) }),
    status: 400,
    code: 'InvalidTensor',
  },
  {
    name: 'npy int64',
    method: 'POST',
    path: `/predict/${LSD}`,
    template: '/predict/{id}',
    body: encodeNpy({ dtype: 'int64', shape: [50, 50, 50], data: new BigInt64Array(50 ** 3) }),
    status: 400,
    code: 'InvalidTensor',
    hint: /astype/,
  },
  {
    name: 'download for an unknown consumer',
    method: 'GET',
    path: `/models/${LSD}/download?for=napari`,
    template: '/models/{id}/download',
    status: 400,
    code: 'InvalidArgument',
  },
  {
    name: 'job without token',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr', output: 'o.zarr' }),
    headers: { 'content-type': 'application/json' },
    status: 401,
    code: 'Unauthorized',
  },
  {
    name: 'job with a wrong token',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr', output: 'o.zarr' }),
    headers: { ...auth, authorization: 'Bearer nope-nope-nope' },
    status: 403,
    code: 'Forbidden',
  },
  {
    name: 'job input with ..',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: '../../etc/x.zarr', output: 'o.zarr' }),
    headers: auth,
    status: 403,
    code: 'PathForbidden',
  },
  {
    name: 'job absolute output',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr/volumes/raw', output: '/tmp/o.zarr' }),
    headers: auth,
    status: 403,
    code: 'PathForbidden',
  },
  {
    name: 'job through a symlink out of the root',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr/volumes/raw', output: 'escape.zarr/out' }),
    headers: auth,
    status: 403,
    code: 'PathForbidden',
  },
  {
    name: 'job with an unknown field',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr', output: 'o.zarr', gpu: true }),
    headers: auth,
    status: 400,
    code: 'InvalidArgument',
  },
  {
    name: 'job with a bad roi',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr', output: 'o.zarr', roi: '0:8,0:8' }),
    headers: auth,
    status: 400,
    code: 'InvalidArgument',
  },
  {
    name: 'job on a class model',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: CLASSES, input: 'raw.zarr', output: 'o.zarr' }),
    headers: auth,
    status: 400,
    code: 'InvalidArgument',
  },
  {
    name: 'job on an unknown model',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: 'nope', input: 'raw.zarr', output: 'o.zarr' }),
    headers: auth,
    status: 404,
    code: 'ModelNotFound',
  },
  {
    name: 'job on a volume at another voxel size',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw4.zarr/volumes/raw', output: 'o.zarr' }),
    headers: auth,
    status: 400,
    code: 'VoxelSizeMismatch',
    hint: /resample/,
  },
  {
    name: 'job input that is not an array',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr/volumes', output: 'o.zarr' }),
    headers: auth,
    status: 400,
    code: 'Volume',
  },
  {
    name: 'job block not a model size',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: json({ model: LSD, input: 'raw.zarr/volumes/raw', output: 'o.zarr', block: [45, 44, 44] }),
    headers: auth,
    status: 400,
    code: 'InvalidArgument',
    hint: /\[44,44,44\] \+ k·\[4,4,4\]/,
  },
  {
    name: 'job JSON malformed',
    method: 'POST',
    path: '/jobs',
    template: '/jobs',
    body: '{"model":',
    headers: auth,
    status: 400,
    code: 'MalformedRequest',
  },
  {
    name: 'job id not a uuid',
    method: 'GET',
    path: '/jobs/..%2Fjobs',
    template: '/jobs/{id}',
    headers: auth,
    status: 404,
    code: 'NotFound',
  },
  {
    name: 'unknown route',
    method: 'GET',
    path: '/v3/models',
    template: '/models/{id}',
    status: 404,
    code: 'NotFound',
  },
];

async function send(c: Pick<Case, 'method' | 'path' | 'body' | 'headers'>) {
  const r = await fetch(`${srv.url}${c.path}`, {
    method: c.method,
    body: c.body as BodyInit | undefined,
    headers: c.headers,
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}

async function healthy() {
  const r = await fetch(`${srv.url}/health/ready`);
  expect(r.status).toBe(200);
}

describe('bad requests', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await send(c);
    expect(r.status, JSON.stringify(r.body)).toBe(c.status);
    expect(r.body.code).toBe(c.code);
    expect(r.body.error).toBe(r.body.message);
    expect(r.body.hint.length).toBeGreaterThan(10);
    if (c.hint) expect(r.body.hint).toMatch(c.hint);
    if (c.template !== '/models/{id}' || c.status !== 404 || c.code !== 'NotFound')
      checkAgainstOpenApi(c.method, c.template, c.status, r.body);
    if (c.status === 401) expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await healthy();
  });

  test('an oversized body is refused with 413 before it is read', async () => {
    const size = LIMIT + 2 ** 20;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(`${srv.url}/v2/models/${LSD}/infer`);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { 'content-length': size },
        },
        (r) => {
          let body = '';
          r.on('data', (d) => {
            body += d;
          });
          r.on('end', () => resolve({ status: r.statusCode as number, body }));
        },
      );
      req.on('error', () => {}); // the server may close while we still write
      req.write(Buffer.alloc(size), () => req.end());
      setTimeout(() => reject(new Error('no answer')), 20_000);
    });
    expect(res.status).toBe(413);
    const body = JSON.parse(res.body);
    expect(body.code).toBe('PayloadTooLarge');
    checkAgainstOpenApi('POST', INFER, 413, body);
    await healthy();
  });

  test('huge headers are refused (431) and the server stays up', async () => {
    const r = await fetch(`${srv.url}/health/live`, { headers: { 'x-junk': 'a'.repeat(64 * 1024) } }).catch(
      (e) => e as Error,
    );
    if (r instanceof Response) expect(r.status).toBe(431);
    else expect(String(r)).toMatch(/fetch failed|socket|closed/i);
    await healthy();
  });
});

describe('admission control', () => {
  const big = () => json(tensor([1, 1, 84, 84, 84]));

  test('a second request while the only slot computes gets 429 with Retry-After', async () => {
    const first = fetch(`${srv.url}/v2/models/${LSD}/infer`, { method: 'POST', body: big() });
    // Wait until the first request holds the slot (its JSON body takes a while to parse).
    for (let i = 0; i < 400 && srv.ctx.limiter.active === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(srv.ctx.limiter.active).toBe(1);
    const second = await send({
      method: 'POST',
      path: `/v2/models/${LSD}/infer`,
      body: json(tensor([1, 1, 44, 44, 44])),
    });
    expect(second.status).toBe(429);
    expect(second.body.code).toBe('Busy');
    expect(second.headers.get('retry-after')).toBe('1');
    checkAgainstOpenApi('POST', INFER, 429, second.body);
    expect((await first).status).toBe(200);
    await healthy();
  }, 60_000);

  test('503 with Retry-After while not ready', async () => {
    srv.ctx.state.ready = false;
    try {
      const r = await send({
        method: 'POST',
        path: `/v2/models/${LSD}/infer`,
        body: json(tensor([1, 1, 44, 44, 44])),
      });
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('NotReady');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      const ready = await fetch(`${srv.url}/health/ready`);
      expect(ready.status).toBe(503);
      checkAgainstOpenApi('GET', '/health/ready', 503, await ready.json());
    } finally {
      srv.ctx.state.ready = true;
    }
  });

  test('a request past the timeout gets 503 Timeout and the server keeps serving', async () => {
    const quick = await startTestServer(
      testConfig(ws, { requestTimeoutMs: 150, jobsDir: join(ws.dir, 'jobs2') }),
    );
    try {
      const r = await fetch(`${quick.url}/v2/models/${LSD}/infer`, { method: 'POST', body: big() });
      const body = await r.json();
      expect(r.status).toBe(503);
      expect(body.code).toBe('Timeout');
      expect(r.headers.get('retry-after')).toBe('5');
      const ok = await fetch(`${quick.url}/health/ready`);
      expect(ok.status).toBe(200);
    } finally {
      await quick.close();
    }
  }, 60_000);
});
