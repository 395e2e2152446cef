/**
 * The API against a real server on a loopback port with real bundles and onnxruntime: catalog,
 * health, metrics, zips with ETag/304, KServe v2 JSON inference (tiled == one onnxruntime pass),
 * .npy predict; every JSON body checked against openapi.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readZip } from '../../exporters/index.js';
import { encodeNpy, fromHalfBits, loadBackend, type NdArray, parseNpy } from '../../runtime/index.js';
import type { RunningServer } from '../../server/index.js';
import {
  CLASSES,
  checkAgainstOpenApi,
  LSD,
  lsdBinaryBody,
  lsdBinaryRequest,
  maxAbsDiff,
  startTestServer,
  testConfig,
  workspace,
} from './helpers.js';

let srv: RunningServer;
let ws: ReturnType<typeof workspace>;

async function getJson(path: string, template = path, status = 200) {
  const r = await fetch(`${srv.url}${path}`);
  const body = await r.json();
  expect(r.status, JSON.stringify(body)).toBe(status);
  checkAgainstOpenApi('GET', template, status, body);
  return body;
}

beforeAll(async () => {
  ws = workspace();
  // A small block budget so that inputs below are split into several blocks.
  srv = await startTestServer(testConfig(ws, { memoryBudgetBytes: 60 * 2 ** 20 }));
});
afterAll(async () => {
  await srv?.close();
});

describe('catalog and health', () => {
  test('health, readiness, server metadata', async () => {
    expect(await getJson('/health/live')).toEqual({ live: true });
    expect(await getJson('/health/ready')).toEqual({ ready: true, models: 2 });
    const v2 = await getJson('/v2');
    expect(v2.extensions).toContain('binary_tensor_data');
    const doc = await getJson('/openapi.json');
    expect(doc.openapi).toBe('3.1.0');
  });

  test('models list and bundle facts come from bundle.yaml', async () => {
    const list = await getJson('/models');
    expect(list.models.map((m: { id: string }) => m.id)).toEqual([LSD, CLASSES]);
    const facts = await getJson(`/models/${LSD}`, '/models/{id}');
    const yaml = readFileSync(join(ws.weights, LSD, 'bundle.yaml'), 'utf8');
    expect(yaml).toContain(`min: [${facts.input.validSize.min.join(', ')}]`);
    expect(facts.output.halo).toEqual([20, 20, 20]);
    expect(facts.output.channels).toHaveLength(13);
    const meta = await getJson(`/v2/models/${LSD}`, '/v2/models/{id}');
    expect(meta.inputs[0]).toEqual({ name: 'raw', datatype: 'FP32', shape: [-1, 1, -1, -1, -1] });
    expect(meta.outputs[0].shape).toEqual([-1, 13, -1, -1, -1]);
    const cls = await getJson(`/v2/models/${CLASSES}`, '/v2/models/{id}');
    expect(cls.outputs[0].shape).toHaveLength(2);
    expect(await getJson(`/v2/models/${LSD}/ready`, '/v2/models/{id}/ready')).toEqual({
      name: LSD,
      ready: true,
    });
  });

  test('download builds the zip once, answers If-None-Match with 304, rdf.yaml matches the zip', async () => {
    const r1 = await fetch(`${srv.url}/models/${LSD}/download?for=fiji`);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-type')).toBe('application/zip');
    const etag = r1.headers.get('etag') as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const bytes = new Uint8Array(await r1.arrayBuffer());
    const path = join(ws.dir, 'got.zip');
    (await import('node:fs')).writeFileSync(path, bytes);
    const zip = readZip(path);
    expect(zip.names).toContain('model.onnx');
    const r2 = await fetch(`${srv.url}/models/${LSD}/download?for=fiji`, {
      headers: { 'If-None-Match': etag },
    });
    expect(r2.status).toBe(304);
    const r3 = await fetch(`${srv.url}/models/${LSD}/download?for=fiji`);
    expect(r3.headers.get('etag')).toBe(etag); // cached, not rebuilt differently
    const rdf = await (await fetch(`${srv.url}/models/${LSD}/rdf.yaml`)).text();
    expect(rdf).toContain('format_version');
    expect(rdf).toContain('bundle_id');
  }, 120_000);
});

/** Blocks run for requests so far (the server's metric). */
async function requestBlocks(): Promise<number> {
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  const m = /emzoo_blocks_processed_total\{model="lsd-small-mtlsd",source="request"\} (\d+)/.exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe('inference', () => {
  test('KServe v2 JSON infer of the test input gives the test output', async () => {
    const dir = join(ws.weights, CLASSES);
    const x = parseNpy(new Uint8Array(readFileSync(join(dir, 'test_input.npy'))));
    const y = parseNpy(new Uint8Array(readFileSync(join(dir, 'test_output.npy'))));
    const r = await fetch(`${srv.url}/v2/models/${CLASSES}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'r1',
        inputs: [{ name: 'raw', datatype: 'FP32', shape: x.shape, data: Array.from(x.data as Float32Array) }],
      }),
    });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    checkAgainstOpenApi('POST', '/v2/models/{id}/infer', 200, body);
    expect(body.id).toBe('r1');
    expect(body.outputs[0].shape).toEqual(y.shape);
    expect(maxAbsDiff(body.outputs[0].data, y.data as Float32Array)).toBeLessThan(1e-4);
  });

  test('a binary request of a valid model size is one run; the FP32 answer starts 8-byte aligned and equals onnxruntime', async () => {
    const n = 56; // min 44 + 3·4: a valid input size, well within the server's budget
    const { ref, body: request, headerLength } = await lsdBinaryRequest(ws.weights, n);
    const blocksBefore = await requestBlocks();
    const r = await fetch(`${srv.url}/v2/models/${LSD}/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(headerLength) },
      body: request,
    });
    const body = await r.arrayBuffer();
    expect(r.status).toBe(200);
    const hl = Number(r.headers.get('inference-header-content-length'));
    expect(hl % 8).toBe(0);
    expect(Number(r.headers.get('content-length'))).toBe(body.byteLength);
    const meta = JSON.parse(new TextDecoder().decode(body.slice(0, hl)));
    expect(meta.outputs[0].shape).toEqual(ref.shape);
    expect(meta.outputs[0].parameters.binary_data_size).toBe(body.byteLength - hl);
    const y = new Float32Array(body, hl, (body.byteLength - hl) / 4); // a view: aligned
    expect(maxAbsDiff(y, ref.data)).toBeLessThan(1e-5);
    expect((await requestBlocks()) - blocksBefore).toBe(1); // one session run, not tiled
  }, 120_000);

  test('output_datatype UINT8 answers value·255 rounded and clamped (one run or tiled, binary or JSON); FP16 half floats', async () => {
    const toU8 = (v: number) => Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
    const infer = async (n: number, binaryOut: boolean, datatype?: string) => {
      const { body: request, headerLength } = lsdBinaryBody(n, {
        binary_data_output: binaryOut,
        ...(datatype ? { output_datatype: datatype } : {}),
      });
      const r = await fetch(`${srv.url}/v2/models/${LSD}/infer`, {
        method: 'POST',
        headers: { 'inference-header-content-length': String(headerLength) },
        body: request,
      });
      expect(r.status).toBe(200);
      const body = new Uint8Array(await r.arrayBuffer());
      const hl = Number(r.headers.get('inference-header-content-length') ?? body.byteLength);
      const meta = JSON.parse(new TextDecoder().decode(body.subarray(0, hl)));
      checkAgainstOpenApi('POST', '/v2/models/{id}/infer', 200, meta);
      const out = meta.outputs[0];
      const data: ArrayLike<number> = !binaryOut
        ? out.data
        : out.datatype === 'FP32'
          ? new Float32Array(body.slice(hl).buffer)
          : body.slice(hl);
      return {
        datatype: out.datatype as string,
        shape: out.shape as number[],
        data,
        bytes: body.byteLength - hl,
      };
    };
    // 56³: a valid size, one session run (converted in the worker); 58³: tiled, converted after.
    for (const [n, binaryOut] of [
      [56, true],
      [58, false],
    ] as const) {
      const f = await infer(n, true);
      const u = await infer(n, binaryOut, 'UINT8');
      expect(u.datatype).toBe('UINT8');
      expect(u.shape).toEqual(f.shape);
      if (binaryOut) expect(u.bytes * 4).toBe(f.bytes);
      let mismatches = 0;
      for (let i = 0; i < f.data.length; i++) if (u.data[i] !== toU8(f.data[i] as number)) mismatches++;
      expect(mismatches).toBe(0);
      expect(new Set(Array.from(u.data)).size).toBeGreaterThan(10); // a real image, not one value
    }
    // FP16 (binary, one run): half the bytes, each value the float32 answer to half precision.
    const f = await infer(56, true);
    const h = await infer(56, true, 'FP16');
    expect(h.datatype).toBe('FP16');
    expect(h.bytes * 2).toBe(f.bytes);
    expect(h.data.length).toBe(f.data.length * 2); // raw bytes: two per value
    const half = new Uint16Array((h.data as Uint8Array).slice().buffer);
    let worst = 0;
    for (let i = 0; i < half.length; i++) {
      const want = f.data[i] as number;
      worst = Math.max(
        worst,
        Math.abs(fromHalfBits(half[i] as number) - want) / Math.max(Math.abs(want), 2 ** -14),
      );
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11); // round to nearest: half an ulp of an 11-bit significand
    // /predict?dtype=uint8: an .npy of uint8, same values as the float32 answer converted.
    const n = 50;
    const raw = Uint8Array.from({ length: n ** 3 }, (_, i) => (i * 31) % 256);
    const npy = (q: string) =>
      fetch(`${srv.url}/predict/${LSD}?padding=valid${q}`, {
        method: 'POST',
        body: encodeNpy({ dtype: 'uint8', shape: [n, n, n], data: raw }) as Uint8Array<ArrayBuffer>,
      }).then(async (r) => parseNpy(new Uint8Array(await r.arrayBuffer())));
    const [yf, yu] = [await npy(''), await npy('&dtype=uint8')];
    expect(yu.dtype).toBe('uint8');
    expect(yu.shape).toEqual(yf.shape);
    expect(Array.from(yu.data as Uint8Array)).toEqual(Array.from(yf.data as Float32Array, toU8));
    const yh = await npy('&dtype=float16');
    expect(yh.dtype).toBe('float16');
    expect(yh.shape).toEqual(yf.shape);
    const fromHalf = Array.from(yh.data as Uint16Array, fromHalfBits);
    expect(maxAbsDiff(Float32Array.from(fromHalf), yf.data as Float32Array)).toBeLessThan(2 ** -11);
  }, 120_000);

  test('a large input is tiled and equals one onnxruntime pass (valid mode)', async () => {
    const n = 68; // output 28³; the 60 MB budget gives blocks smaller than that
    const raw = Float32Array.from({ length: n ** 3 }, (_, i) => (i * 7919) % 251);
    const dir = join(ws.weights, LSD);
    const backend = await loadBackend(join(dir, 'model.onnx'), { workers: 0 });
    const pre = raw.map((v) => v * (2 / 255) - 1);
    const ref = (await backend.run({ raw: { dtype: 'float32', shape: [1, 1, n, n, n], data: pre } }))
      .prediction as NdArray<'float32'>;
    await backend.dispose();
    const blocksBefore = await requestBlocks();
    const r = await fetch(`${srv.url}/v2/models/${LSD}/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'raw', datatype: 'FP32', shape: [1, 1, n, n, n], data: Array.from(raw) }],
      }),
    });
    const body = await r.json();
    expect(r.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.outputs[0].shape).toEqual(ref.shape);
    expect(maxAbsDiff(body.outputs[0].data, ref.data)).toBeLessThan(1e-5);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect((await requestBlocks()) - blocksBefore).toBeGreaterThan(1); // really tiled
    expect(metrics).toMatch(/emzoo_inference_duration_seconds_count\{model="lsd-small-mtlsd"\} [1-9]/);
    expect(metrics).toMatch(
      /emzoo_http_requests_total\{method="POST",route="\/v2\/models\/:id\/infer",status="200"\} [1-9]/,
    );
    expect(metrics).toContain('emzoo_queue_depth');
  }, 120_000);

  test('POST /predict takes a raw uint8 .npy and returns the same-size prediction', async () => {
    const n = 50;
    const raw = Uint8Array.from({ length: n ** 3 }, (_, i) => (i * 31) % 256);
    const r = await fetch(`${srv.url}/predict/${LSD}?padding=zero`, {
      method: 'POST',
      body: encodeNpy({ dtype: 'uint8', shape: [n, n, n], data: raw }) as Uint8Array<ArrayBuffer>,
    });
    expect(r.status).toBe(200);
    const y = parseNpy(new Uint8Array(await r.arrayBuffer()));
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([13, n, n, n]);
    // Same request in valid mode: the centre of the padded output equals it.
    const v = await fetch(`${srv.url}/predict/${LSD}?padding=valid`, {
      method: 'POST',
      body: encodeNpy({ dtype: 'uint8', shape: [n, n, n], data: raw }) as Uint8Array<ArrayBuffer>,
    });
    const yv = parseNpy(new Uint8Array(await v.arrayBuffer()));
    expect(yv.shape).toEqual([13, 10, 10, 10]);
    const centre = new Float32Array(13 * 1000);
    let k = 0;
    for (let c = 0; c < 13; c++)
      for (let z = 20; z < 30; z++)
        for (let yy = 20; yy < 30; yy++)
          for (let x = 20; x < 30; x++)
            centre[k++] = (y.data as Float32Array)[((c * n + z) * n + yy) * n + x] as number;
    expect(maxAbsDiff(centre, yv.data as Float32Array)).toBeLessThan(1e-5);
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await fetch(`${srv.url}/health/live`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
  }, 60_000);
});
