/**
 * Server test peers: real bundles (the cached `emzoo export` of lsd-small-mtlsd and a toy class
 * model), real zarr volumes written by Python zarr, a real server on an ephemeral loopback port
 * (in-process, or a `bioimage-export serve` child process for restarts), and an independent
 * single-pass reference computed with onnxruntime on the whole zero-padded volume.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import FileSystemStore from '@zarrita/storage/fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPkg from 'ajv-formats';
import * as zarr from 'zarrita';
import { readBundle } from '../../exporters/index.js';
import { loadBackend, type NdArray } from '../../runtime/index.js';
import {
  openApiDocument,
  type RunningServer,
  resolveConfig,
  type ServerConfig,
  startServer,
} from '../../server/index.js';
import { realBundle, tinyBundle } from '../exporters/bundles.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PYTHON = join(ROOT, '.venv/bin/python');
export const TOKEN = 'test-token-0123456789';
export const LSD = 'lsd-small-mtlsd'; // folder name = bundle id (readBundle checks it)
export const CLASSES = 'tiny-classes';

const run = promisify(execFile);

export async function python(code: string, args: string[] = []): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', code, ...args], {
    maxBuffer: 64 << 20,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  return stdout;
}

/** A temp workspace: weights/ with the two bundles, data/ (the data root), jobs/, zips/. */
export function workspace(): { dir: string; weights: string; data: string; jobs: string; zips: string } {
  const dir = mkdtempSync(join(tmpdir(), 'emzoo-serve-'));
  const weights = join(dir, 'weights');
  mkdirSync(weights);
  cpSync(realBundle(), join(weights, LSD), { recursive: true });
  cpSync(tinyBundle('classes'), join(weights, CLASSES), { recursive: true });
  const data = join(dir, 'data');
  mkdirSync(data);
  return { dir, weights, data, jobs: join(dir, 'jobs'), zips: join(dir, 'zips') };
}

export function testConfig(ws: ReturnType<typeof workspace>, over: Partial<ServerConfig> = {}): ServerConfig {
  return {
    ...resolveConfig([
      {
        port: 0,
        modelsDir: ws.weights,
        dataRoot: ws.data,
        jobsDir: ws.jobs,
        cacheDir: ws.zips,
        token: TOKEN,
        logLevel: 'silent',
      },
    ]),
    ...over,
  };
}

export async function startTestServer(config: ServerConfig): Promise<RunningServer> {
  return startServer(config);
}

/** `bioimage-export serve` as a child process; resolves once it prints its URL (http+unix:// with --socket). */
export async function spawnServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/bioimage-export.js'), 'serve', '--port', '0', '--log-level', 'warn', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    },
  );
  let err = '';
  const url = await new Promise<string>((res, rej) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http(?:\+unix)?:\/\/\S+)/.exec(err);
      if (m) res(m[1] as string);
    });
    child.on('exit', (code) => rej(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { url, child };
}

/** A uint8 gunpowder-style zarr v2 array (attribute resolution) written by Python zarr; returns the data. */
export async function writeRawZarr(
  path: string,
  shape: number[],
  resolution: number[],
  seed = 0,
): Promise<Uint8Array> {
  const out = await python(
    `import sys, zarr, numpy as np
shape = tuple(int(v) for v in sys.argv[2].split(','))
res = [float(v) for v in sys.argv[3].split(',')]
a = np.random.default_rng(int(sys.argv[4])).integers(0, 256, shape).astype(np.uint8)
g = zarr.open(sys.argv[1], 'w')
d = g.create_dataset('volumes/raw', data=a, chunks=(16, 32, 32))
d.attrs['resolution'] = res
d.attrs['offset'] = [0, 0, 0]
sys.stdout.write(a.tobytes().hex())`,
    [path, shape.join(','), resolution.join(','), String(seed)],
  );
  return Uint8Array.from(Buffer.from(out, 'hex'));
}

/** Reads an OME-Zarr output written by the server/CLI (array '0', [c, z, y, x]). */
export async function readOutput(
  path: string,
): Promise<{ shape: number[]; data: Float32Array | Uint8Array; attrs: Record<string, unknown> }> {
  const store = new FileSystemStore(path);
  const group = await zarr.open(zarr.root(store), { kind: 'group' });
  const arr = await zarr.open(zarr.root(store).resolve('0'), { kind: 'array' });
  const chunk = await zarr.get(arr, null);
  return { shape: [...arr.shape], data: chunk.data as Float32Array, attrs: group.attrs };
}

/**
 * The reference: the whole [z, y, x] uint8 volume, preprocessed with the bundle's scale_linear,
 * zero-padded by the halo and run through onnxruntime once (on the calling thread).
 */
export async function singlePass(
  bundleDir: string,
  vol: Uint8Array,
  shape: number[],
): Promise<NdArray<'float32'>> {
  const b = readBundle(bundleDir);
  const h = b.output.halo as readonly number[];
  const [Z, Y, X] = shape as [number, number, number];
  const p = [Z + 2 * (h[0] as number), Y + 2 * (h[1] as number), X + 2 * (h[2] as number)] as const;
  const x = new Float32Array(p[0] * p[1] * p[2]);
  const { gain, offset } = b.input.preprocessing;
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let xx = 0; xx < X; xx++) {
        const v = vol[(z * Y + y) * X + xx] as number;
        x[((z + (h[0] as number)) * p[1] + y + (h[1] as number)) * p[2] + xx + (h[2] as number)] =
          v * gain + offset;
      }
  const backend = await loadBackend(join(bundleDir, 'model.onnx'), { workers: 0 });
  try {
    const out = await backend.run({ [b.input.name]: { dtype: 'float32', shape: [1, 1, ...p], data: x } });
    const y = out[b.output.name] as NdArray<'float32'>;
    return { dtype: 'float32', shape: y.shape.slice(1), data: y.data };
  } finally {
    await backend.dispose();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, scaleA = 1): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) * scaleA - (b[i] as number)));
  return m;
}

// --- OpenAPI: every JSON response is checked against the schema the document declares for it.
const ajv = new Ajv2020({ strict: false, allErrors: true });
const addFormats = ((addFormatsPkg as unknown as { default?: unknown }).default ?? addFormatsPkg) as (
  a: Ajv2020,
) => void;
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: openApiDocument.components } as never);
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

type Op = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };

/** Validates `body` against the document's schema for `method path` → `status` (JSON responses). */
export function checkAgainstOpenApi(
  method: string,
  pathTemplate: string,
  status: number,
  body: unknown,
): void {
  const paths = openApiDocument.paths as unknown as Record<string, Record<string, Op>>;
  const op = paths[pathTemplate]?.[method.toLowerCase()];
  if (!op) throw new Error(`openapi.json has no ${method} ${pathTemplate}`);
  const resp = op.responses[String(status)];
  if (!resp) throw new Error(`openapi.json has no ${status} response for ${method} ${pathTemplate}`);
  const schema = resp.content?.['application/json']?.schema;
  if (!schema) throw new Error(`openapi.json declares no JSON body for ${method} ${pathTemplate} ${status}`);
  const key = `${method} ${pathTemplate} ${status}`;
  let v = compiled.get(key);
  if (!v) {
    const rewrite = JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"openapi#/components'));
    v = ajv.compile(rewrite);
    compiled.set(key, v);
  }
  if (!v(body))
    throw new Error(
      `${key}: body does not match openapi.json: ${ajv.errorsText(v.errors)}\n${JSON.stringify(body).slice(0, 400)}`,
    );
}

/**
 * A KServe binary request for the LSD bundle: a uint8 n³ block (UINT8 in) and request-level
 * `parameters` (e.g. binary_data_output, output_datatype); `body` and the
 * `inference-header-content-length` to send with it.
 */
export function lsdBinaryBody(
  n: number,
  parameters: Record<string, unknown>,
): { raw: Uint8Array; body: Buffer<ArrayBuffer>; headerLength: number } {
  const raw = Uint8Array.from({ length: n ** 3 }, (_, i) => (i * 7919) % 251);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'raw',
          shape: [1, 1, n, n, n],
          datatype: 'UINT8',
          parameters: { binary_data_size: raw.length },
        },
      ],
      parameters,
    }),
  );
  return { raw, body: Buffer.concat([header, raw]), headerLength: header.length };
}

/** lsdBinaryBody with a binary FP32 answer, and that answer from onnxruntime on the calling thread (scale_linear 2/255, −1 applied here). */
export async function lsdBinaryRequest(
  weightsDir: string,
  n: number,
): Promise<{ ref: NdArray<'float32'>; body: Buffer<ArrayBuffer>; headerLength: number }> {
  const { raw, body, headerLength } = lsdBinaryBody(n, { binary_data_output: true });
  const backend = await loadBackend(join(weightsDir, LSD, 'model.onnx'), { workers: 0 });
  const pre = Float32Array.from(raw, (v) => v * (2 / 255) - 1);
  const ref = (await backend.run({ raw: { dtype: 'float32', shape: [1, 1, n, n, n], data: pre } }))
    .prediction as NdArray<'float32'>;
  await backend.dispose();
  return { ref, body, headerLength };
}
