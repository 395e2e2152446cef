/**
 * Bench 2: `POST /v2/models/{id}/infer` with binary tensors vs the same block in-process.
 * The bench exports the bundle into /tmp, starts `bioimage-export serve` on a loopback port (a
 * child process, server defaults: 1 worker × 1 intra-op thread), and times, interleaved round by
 * round on one raw uint8 block:
 *   in-process run      runtime loadBackend(workers 1) on the preprocessed block (its valid output)
 *   in-process tiled    predictArray with extent 'valid' (the server's path for inputs that are not
 *                       a valid model size or exceed the budget; a valid-size block is one run)
 *   HTTP Node fetch     binary request (UINT8 in) and binary response (FP32 out), decoded (a view
 *                       on the body when the server aligns the binary part, else a copy)
 *   HTTP node:http      the same request through node:http, read into one buffer (no concat)
 *   HTTP node:http, Unix socket  the same through a second server started with --socket (a Unix
 *                       domain socket instead of loopback TCP)
 *   HTTP tritonclient   the same through Triton's Python client (skip with --triton 0)
 *   node:http + system shm        the system shared-memory extension from Node: per request the
 *                       client pwrites the input into its tmpfs object, sends a small JSON request
 *                       naming both regions, and reads the output object into a fresh buffer
 *   HTTP tritonclient + system shm  the same as a Triton user: regions from
 *                       tritonclient.utils.shared_memory, input copied in per request, output
 *                       viewed in place (numpy over the mmap)
 *   … (UINT8 out)       request parameter output_datatype UINT8: the answer as value·255 in uint8
 *                       (converted in the server's worker), a quarter of the bytes; compared with
 *                       the in-process run that converts the same way (RunOptions.output uint8)
 *   … (FP16 out)        output_datatype FP16: half floats, half the bytes; against the in-process
 *                       run with RunOptions.output float16
 * The server runs with --shared-memory system. Overhead = HTTP / in-process − 1 (goal ≤ 10 %).
 *
 *   node --import tsx bench/inference/server-overhead.ts [--preset lsd-small-mtlsd] [--block 128] [--rounds 5]
 *
 * --block is an edge (a cube) or z,y,x; --rows fp32 keeps the FP32 rows only (in-process run,
 * node:http, system shm, tritonclient), for a faithful-size net whose block takes tens of seconds:
 *   node --import tsx bench/inference/server-overhead.ts --preset lsd-zebrafinch-mtlsd --block 84,268,268 --rows fp32 --rounds 3
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { join } from 'node:path';
import {
  blockBytes,
  loadBackend,
  type NdArray,
  ndarray,
  predictArray,
  writeNpy,
} from '../../runtime/index.js';
import {
  bundleGeometry,
  CLI,
  checkBlock,
  ensureBundle,
  flags,
  fmt,
  HERE,
  loadNote,
  median,
  modelGeometry,
  pythonWorker,
  SCRATCH,
  table,
} from './common.js';

const opt = flags({ preset: 'lsd-small-mtlsd', block: '128', rounds: 5, triton: 1, rows: 'all' });

function parseBlock(text: string): number[] {
  const v = text.split(',').map(Number);
  if (!(v.length === 1 || v.length === 3) || v.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--block takes an edge or z,y,x (positive integers), got '${text}'`);
  }
  return v.length === 1 ? [0, 1, 2].map(() => v[0] as number) : v;
}
if (opt.rows !== 'all' && opt.rows !== 'fp32') throw new Error(`--rows is all or fp32, got '${opt.rows}'`);

async function startServe(
  weights: string,
  work: string,
  budgetBytes: number,
  listen: string[] = ['--port', '0'],
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      ...listen,
      '--log-level',
      'warn',
      '--models-dir',
      weights,
      '--data-root',
      work,
      '--jobs-dir',
      join(work, 'jobs'),
      '--workers',
      '1',
      '--request-timeout-ms',
      '600000',
      '--shared-memory',
      'system',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, EMZOO_SERVE_MEMORY_BUDGET_BYTES: String(budgetBytes) },
    },
  );
  let err = '';
  const url = await new Promise<string>((res, rej) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http(\+unix)?:\/\/\S+)/.exec(err);
      if (m) res(m[1] as string);
    });
    child.on('exit', (code) => rej(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { url, child };
}

/** node:http's request target: a URL, or a path on the server behind a Unix socket. */
type Target = string | { readonly socketPath: string };
const requestTo = (t: Target, path: string, opts: RequestOptions, cb: (res: IncomingMessage) => void) =>
  typeof t === 'string'
    ? httpRequest(`${t}${path}`, opts, cb)
    : httpRequest({ ...opts, socketPath: t.socketPath, path }, cb);

/** One KServe v2 binary-extension request: JSON header + raw uint8 bytes; FP32 binary output decoded. */
async function inferHttp(
  url: string,
  model: string,
  inputName: string,
  raw: Uint8Array,
  shape: number[],
): Promise<NdArray<'float32'>> {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: inputName, shape, datatype: 'UINT8', parameters: { binary_data_size: raw.byteLength } },
      ],
      parameters: { binary_data_output: true },
    }),
  );
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.byteLength),
    },
    body: Buffer.concat([header, raw]),
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`infer → ${res.status}: ${body.toString().slice(0, 500)}`);
  const hl = Number(res.headers.get('inference-header-content-length'));
  const meta = JSON.parse(body.subarray(0, hl).toString()) as {
    outputs: { shape: number[]; datatype: string; parameters?: { binary_data_size?: number } }[];
  };
  const o = meta.outputs[0];
  if (o?.datatype !== 'FP32' || o.parameters?.binary_data_size === undefined)
    throw new Error(`unexpected response header ${JSON.stringify(meta).slice(0, 300)}`);
  // A view when the binary part is 4-byte aligned in the body (this server pads its header to 8),
  // else a copy into a Float32Array, which any client of an unaligned server must make.
  const bytes = body.subarray(hl, hl + o.parameters.binary_data_size);
  if (bytes.byteOffset % 4 === 0) {
    return {
      dtype: 'float32',
      shape: o.shape,
      data: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
    };
  }
  const data = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { dtype: 'float32', shape: o.shape, data };
}

/**
 * The same request through node:http, the response read straight into one buffer of the
 * announced Content-Length (no chunk list, no concatenation), the tensor viewed in place. fetch
 * (undici) spends ~150 CPU-ms per 34 MiB response on this machine; this client a fraction of it.
 * Over loopback TCP (a URL) or a Unix socket (`serve --socket`).
 */
function inferNodeHttp(
  target: Target,
  model: string,
  inputName: string,
  raw: Uint8Array,
  shape: number[],
  out: 'FP32' | 'UINT8' | 'FP16' = 'FP32',
): Promise<NdArray<'float32' | 'uint8' | 'float16'>> {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: inputName, shape, datatype: 'UINT8', parameters: { binary_data_size: raw.byteLength } },
      ],
      parameters: { binary_data_output: true, ...(out === 'FP32' ? {} : { output_datatype: out }) },
    }),
  );
  return new Promise((resolve, reject) => {
    const req = requestTo(
      target,
      `/v2/models/${model}/infer`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(header.byteLength + raw.byteLength),
          'inference-header-content-length': String(header.byteLength),
        },
      },
      (res) => {
        const total = Number(res.headers['content-length']);
        const body = Buffer.allocUnsafeSlow(total);
        let at = 0;
        res.on('data', (d: Buffer) => {
          d.copy(body, at);
          at += d.length;
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200)
            return reject(new Error(`infer → ${res.statusCode}: ${body.toString().slice(0, 500)}`));
          const hl = Number(res.headers['inference-header-content-length']);
          const meta = JSON.parse(body.subarray(0, hl).toString()) as { outputs: { shape: number[] }[] };
          const shapeOut = meta.outputs[0]?.shape ?? [];
          if (out === 'UINT8') return resolve({ dtype: 'uint8', shape: shapeOut, data: body.subarray(hl) });
          if (out === 'FP16') {
            const h = new Uint16Array(new Uint8Array(body.subarray(hl)).buffer); // a copy: 2-byte aligned
            return resolve({ dtype: 'float16', shape: shapeOut, data: h });
          }
          const n = (total - hl) / 4;
          const data =
            (body.byteOffset + hl) % 4 === 0
              ? new Float32Array(body.buffer, body.byteOffset + hl, n)
              : new Float32Array(new Uint8Array(body.subarray(hl)).buffer);
          resolve({ dtype: 'float32', shape: shapeOut, data });
        });
      },
    );
    req.on('error', reject);
    req.write(header);
    req.end(raw);
  });
}

/** Regions of the Node shm client: tmpfs objects it creates itself and registers. */
interface NodeShm {
  readonly input: import('node:fs/promises').FileHandle;
  readonly output: import('node:fs/promises').FileHandle;
  readonly outBytes: number;
  readonly files: readonly string[];
}

async function setupNodeShm(url: string, inBytes: number, outBytes: number): Promise<NodeShm> {
  const tag = `emzoo-bench-node-${process.pid}`;
  const files = [`/dev/shm/${tag}-in`, `/dev/shm/${tag}-out`];
  writeFileSync(files[0] as string, Buffer.alloc(inBytes));
  writeFileSync(files[1] as string, Buffer.alloc(outBytes));
  for (const [name, key, size] of [
    ['node-in', `/${tag}-in`, inBytes],
    ['node-out', `/${tag}-out`, outBytes],
  ] as const) {
    const r = await fetch(`${url}/v2/systemsharedmemory/region/${name}/register`, {
      method: 'POST',
      body: JSON.stringify({ key, offset: 0, byte_size: size }),
    });
    if (!r.ok) throw new Error(`register ${name} → ${r.status}: ${await r.text()}`);
  }
  return {
    input: await open(files[0] as string, 'r+'),
    output: await open(files[1] as string, 'r'),
    outBytes,
    files,
  };
}

/** Input pwritten into its object, a small JSON request over node:http, the output object read into a fresh buffer. */
async function inferNodeShm(
  url: string,
  model: string,
  names: { readonly inputName: string; readonly outputName: string },
  raw: Uint8Array,
  shape: number[],
  regions: NodeShm,
): Promise<NdArray<'float32'>> {
  await regions.input.write(raw, 0, raw.byteLength, 0);
  const body = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: names.inputName,
          shape,
          datatype: 'UINT8',
          parameters: { shared_memory_region: 'node-in', shared_memory_byte_size: raw.byteLength },
        },
      ],
      outputs: [
        {
          name: names.outputName,
          parameters: { shared_memory_region: 'node-out', shared_memory_byte_size: regions.outBytes },
        },
      ],
    }),
  );
  const meta = await new Promise<{ outputs: { shape: number[] }[] }>((resolve, reject) => {
    const req = httpRequest(
      `${url}/v2/models/${model}/infer`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`infer → ${res.statusCode}: ${text.slice(0, 500)}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const shapeOut = meta.outputs[0]?.shape ?? [];
  const data = new Float32Array(shapeOut.reduce((a, b) => a * b, 1));
  const bytes = new Uint8Array(data.buffer);
  for (let at = 0; at < bytes.length; ) {
    const { bytesRead } = await regions.output.read(bytes, at, bytes.length - at, at);
    if (bytesRead === 0) throw new Error('output object shorter than the answer');
    at += bytesRead;
  }
  return { dtype: 'float32', shape: shapeOut, data };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

async function main() {
  const bundle = ensureBundle(opt.preset);
  const g = await bundleGeometry(bundle);
  const block = parseBlock(opt.block);
  checkBlock(g, block);
  const tag = block.join('x');
  const shape5 = [1, 1, ...block];
  const all = opt.rows === 'all';
  const outShape = block.map((v, i) => v - 2 * (g.halo[i] as number));
  const outVox = outShape.reduce((a, b) => a * b, 1);

  // A served copy: weights/<id>/ with the bundle (the id is the bundle folder's name).
  const work = join(SCRATCH, 'serve');
  rmSync(work, { recursive: true, force: true });
  const weights = join(work, 'weights');
  mkdirSync(weights, { recursive: true });
  cpSync(bundle, join(weights, opt.preset), { recursive: true });

  // The raw block (uint8, as a client would send EM data) and its preprocessed float32 form.
  const raw = new Uint8Array(block.reduce((a, b) => a * b, 1));
  let st = 0x2545f491;
  for (let i = 0; i < raw.length; i++) {
    st ^= st << 13;
    st ^= st >>> 17;
    st ^= st << 5;
    raw[i] = (st >>> 0) & 255;
  }
  const rawNpy = join(work, `raw-${tag}.npy`);
  await writeNpy(rawNpy, { dtype: 'uint8', shape: shape5, data: raw });
  const norm = () => {
    const x = ndarray('float32', shape5);
    for (let i = 0; i < raw.length; i++) x.data[i] = (raw[i] as number) * g.gain + g.offset;
    return x;
  };

  console.log(
    `# bench/inference/server-overhead: ${opt.preset}, raw uint8 block ${block.join('×')} → valid output ${outShape.join('×')} × ${g.outputChannels} ch (FP32, ${fmt((outVox * g.outputChannels * 4) / 2 ** 20, 1)} MiB)`,
  );
  console.log(`# before: ${loadNote()}`);
  // The server answers a valid block in one run while the block's estimate fits its budget (1 GiB
  // by default); a faithful-size net's block can need more, and would then be tiled, which is
  // not the in-process run it is compared with, so the budget is raised to the estimate.
  const geometry = modelGeometry(g);
  const budget = Math.max(2 ** 30, blockBytes(geometry, block));
  if (budget > 2 ** 30)
    console.log(`# server memory budget raised to ${fmt(budget / 2 ** 20, 0)} MiB (the block's estimate)`);
  const { url, child } = await startServe(weights, work, budget);
  // The same server on a Unix domain socket (a second process, idle while the other answers).
  const socketPath = join(work, 'serve.sock');
  mkdirSync(join(work, 'uds'), { recursive: true });
  const onSocket = await startServe(weights, join(work, 'uds'), budget, ['--socket', socketPath]);
  const backend = await loadBackend(join(bundle, 'model.onnx'), { workers: 1 }); // = server defaults
  const triton = opt.triton ? pythonWorker(join(HERE, 'triton_client_worker.py')) : undefined;
  const outBytes = outVox * g.outputChannels * 4;
  const nodeShm = await setupNodeShm(url, raw.byteLength, outBytes);
  try {
    const inProcess = async () => {
      const x = norm(); // preprocessing is part of what the server does per request, so it is timed
      const y = await backend.run({ [g.inputName]: x }, { transfer: true });
      return Object.values(y)[0] as NdArray<'float32'>;
    };
    // As the server's UINT8/FP16 answers: converted in the worker (the window is the whole output).
    const inProcessAs = async (dtype: 'uint8' | 'float16') => {
      const x = norm();
      const shaping = { start: [0, 0, 0], shape: outShape, dtype };
      const y = await backend.run({ [g.inputName]: x }, { transfer: true, output: shaping });
      return Object.values(y)[0] as NdArray<'uint8' | 'float16'>;
    };
    const inProcessU8 = () => inProcessAs('uint8');
    const inProcessF16 = () => inProcessAs('float16');
    const tiled = (extent: 'same' | 'valid') =>
      predictArray(
        { dtype: 'uint8', shape: [1, ...block], data: raw },
        {
          backend,
          geometry,
          memoryBudgetBytes: 2 ** 30,
          padding: 'zero',
          extent,
          normalization: { kind: 'scale_linear', gain: g.gain, offset: g.offset },
        },
      );
    const http = () => inferHttp(url, opt.preset, g.inputName, raw, shape5);
    const nodeHttp = () => inferNodeHttp(url, opt.preset, g.inputName, raw, shape5);
    const nodeUds = () => inferNodeHttp({ socketPath }, opt.preset, g.inputName, raw, shape5);
    const nodeShmRun = () => inferNodeShm(url, opt.preset, g, raw, shape5, nodeShm);
    const nodeHttpU8 = () => inferNodeHttp(url, opt.preset, g.inputName, raw, shape5, 'UINT8');
    const nodeHttpF16 = () => inferNodeHttp(url, opt.preset, g.inputName, raw, shape5, 'FP16');

    // Same numbers from every path (else the timings compare different work).
    // (--rows fp32: only the paths it times, each once, which is also their warm-up)
    const ref = await inProcess();
    const refNpy = join(work, `ref-${tag}.npy`);
    await writeNpy(refNpy, ref);
    const checks = [
      `HTTP (node:http) max |Δ| = ${maxAbsDiff((await nodeHttp()).data, ref.data).toExponential(2)}`,
      `node:http + system shm max |Δ| = ${maxAbsDiff((await nodeShmRun()).data, ref.data).toExponential(2)}`,
    ];
    const refU8Npy = join(work, `ref-u8-${tag}.npy`);
    const refF16Npy = join(work, `ref-f16-${tag}.npy`);
    if (all) {
      const viaHttp = await http();
      const viaNodeUds = await nodeUds();
      const refU8 = await inProcessU8();
      await writeNpy(refU8Npy, refU8);
      const viaNodeHttpU8 = await nodeHttpU8();
      const refF16 = await inProcessF16();
      await writeNpy(refF16Npy, refF16);
      const viaNodeHttpF16 = await nodeHttpF16();
      checks.push(
        `HTTP (fetch) max |Δ| vs in-process = ${maxAbsDiff(viaHttp.data, ref.data).toExponential(2)}`,
        `HTTP (node:http, Unix socket) max |Δ| = ${maxAbsDiff(viaNodeUds.data, ref.data).toExponential(2)}`,
        `HTTP (node:http, UINT8 out) max |Δ| vs in-process uint8 = ${maxAbsDiff(viaNodeHttpU8.data, refU8.data)}`,
        `HTTP (node:http, FP16 out) max |Δ bits| vs in-process float16 = ${maxAbsDiff(viaNodeHttpF16.data, refF16.data)}`,
      );
    }
    if (triton) {
      await triton.ask({
        cmd: 'setup',
        url: url.replace('http://', ''),
        model: opt.preset,
        input: rawNpy,
        shm: true,
      });
      const c = await triton.ask({ cmd: 'check', reference: refNpy });
      checks.push(`tritonclient max |Δ| = ${Number(c.max_abs).toExponential(2)}`);
      const cs = await triton.ask({ cmd: 'check', reference: refNpy, shm: true });
      checks.push(`tritonclient + system shm max |Δ| = ${Number(cs.max_abs).toExponential(2)}`);
      if (all) {
        const cu = await triton.ask({ cmd: 'check', reference: refU8Npy, uint8: true });
        checks.push(`tritonclient (UINT8 out) max |Δ| vs in-process uint8 = ${Number(cu.max_abs)}`);
        const ch = await triton.ask({ cmd: 'check', reference: refF16Npy, fp16: true });
        checks.push(`tritonclient (FP16 out) max |Δ| vs in-process float16 = ${Number(ch.max_abs)}`);
      }
    }
    if (all) {
      const v = await tiled('valid'); // also the warm-up of its block shape
      checks.push(`predictArray extent valid max |Δ| = ${maxAbsDiff(v.data, ref.data).toExponential(2)}`);
    }

    type Row =
      | 'in-process run'
      | 'in-process tiled'
      | 'HTTP Node fetch'
      | 'HTTP node:http'
      | 'HTTP node:http, Unix socket'
      | 'node:http + system shm'
      | 'HTTP tritonclient'
      | 'HTTP tritonclient + system shm'
      | 'in-process run (uint8 out)'
      | 'HTTP node:http (UINT8 out)'
      | 'HTTP tritonclient (UINT8 out)'
      | 'in-process run (fp16 out)'
      | 'HTTP node:http (FP16 out)'
      | 'HTTP tritonclient (FP16 out)';
    const rowsUsed: Row[] = all
      ? [
          'in-process run',
          'in-process tiled',
          'HTTP Node fetch',
          'HTTP node:http',
          'HTTP node:http, Unix socket',
          'node:http + system shm',
          'in-process run (uint8 out)',
          'HTTP node:http (UINT8 out)',
          'in-process run (fp16 out)',
          'HTTP node:http (FP16 out)',
        ]
      : ['in-process run', 'HTTP node:http', 'node:http + system shm'];
    if (triton) {
      rowsUsed.push('HTTP tritonclient', 'HTTP tritonclient + system shm');
      if (all) rowsUsed.push('HTTP tritonclient (UINT8 out)', 'HTTP tritonclient (FP16 out)');
    }
    // CPU ms per request as well as wall ms: on a shared machine wall time carries the scheduler's
    // waits (several per request for the HTTP paths: client, server main thread, server worker),
    // CPU time does not. In-process: this process (its worker thread included); HTTP via fetch:
    // this process (client) + the server process (/proc/<pid>/stat, 10 ms ticks).
    const serverCpuMs = (pid = child.pid) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ticks of 10 ms
    };
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const once = async (r: Row): Promise<{ wall: number; cpu: number; server: number }> => {
      if (r.startsWith('HTTP tritonclient')) {
        // Its client's CPU is in the Python process: not counted.
        const ms = (
          await triton?.ask({
            cmd: 'run',
            shm: r === 'HTTP tritonclient + system shm',
            uint8: r === 'HTTP tritonclient (UINT8 out)',
            fp16: r === 'HTTP tritonclient (FP16 out)',
          })
        )?.ms;
        return { wall: Number(ms), cpu: Number.NaN, server: Number.NaN };
      }
      const pid = r === 'HTTP node:http, Unix socket' ? onSocket.child.pid : child.pid;
      const t0 = performance.now();
      const c0 = cpuMs();
      const s0 = serverCpuMs(pid);
      if (r === 'in-process run') await inProcess();
      else if (r === 'in-process tiled') await tiled('valid');
      else if (r === 'HTTP node:http') await nodeHttp();
      else if (r === 'HTTP node:http, Unix socket') await nodeUds();
      else if (r === 'node:http + system shm') await nodeShmRun();
      else if (r === 'in-process run (uint8 out)') await inProcessU8();
      else if (r === 'HTTP node:http (UINT8 out)') await nodeHttpU8();
      else if (r === 'in-process run (fp16 out)') await inProcessF16();
      else if (r === 'HTTP node:http (FP16 out)') await nodeHttpF16();
      else await http();
      const wall = performance.now() - t0;
      const server = r.startsWith('in-process') ? Number.NaN : serverCpuMs(pid) - s0;
      return { wall, cpu: cpuMs() - c0 + (Number.isNaN(server) ? 0 : server), server };
    };
    const times = new Map<Row, number[]>();
    const cpus = new Map<Row, number[]>();
    const serverCpus = new Map<Row, number[]>();
    for (let k = 0; k < opt.rounds; k++) {
      for (let j = 0; j < rowsUsed.length; j++) {
        const r = rowsUsed[(j + k) % rowsUsed.length] as Row;
        const t = await once(r);
        times.set(r, [...(times.get(r) ?? []), t.wall]);
        cpus.set(r, [...(cpus.get(r) ?? []), t.cpu]);
        serverCpus.set(r, [...(serverCpus.get(r) ?? []), t.server]);
      }
      process.stderr.write(`round ${k + 1}/${opt.rounds} done\n`);
    }
    // Each row against the in-process run that does the same work (uint8/fp16 rows: that run).
    const baseOf = (r: Row): Row =>
      r.endsWith('(UINT8 out)')
        ? 'in-process run (uint8 out)'
        : r.endsWith('(FP16 out)')
          ? 'in-process run (fp16 out)'
          : 'in-process run';
    const base = (r: Row) => median(times.get(baseOf(r)) ?? []);
    const cpuBase = (r: Row) => median(cpus.get(baseOf(r)) ?? []);
    const pct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${fmt(v * 100, 1)} %` : '—');
    console.log(
      table(
        [
          'path',
          'ms/request (median)',
          'range ms',
          'Mvox/s (output)',
          'vs in-process run',
          'CPU ms (median)',
          'CPU vs in-process',
          'of which server CPU ms',
        ],
        rowsUsed.map((r) => {
          const ts = times.get(r) ?? [];
          const m = median(ts);
          const c = median(cpus.get(r) ?? []);
          return [
            r,
            fmt(m, 1),
            `${fmt(Math.min(...ts), 0)}–${fmt(Math.max(...ts), 0)}`,
            fmt(outVox / (m / 1000) / 1e6, 3),
            pct(m / base(r) - 1),
            fmt(c, 0),
            pct(c / cpuBase(r) - 1),
            fmt(median(serverCpus.get(r) ?? []), 0),
          ];
        }),
      ),
    );
    const timed = (r: Row) => rowsUsed.includes(r);
    for (const r of (
      [
        'HTTP Node fetch',
        'HTTP node:http',
        'HTTP node:http, Unix socket',
        'node:http + system shm',
        'HTTP node:http (UINT8 out)',
        'HTTP node:http (FP16 out)',
      ] as const
    ).filter(timed)) {
      const h = median(times.get(r) ?? []);
      const hc = median(cpus.get(r) ?? []);
      console.log(
        `overhead ${r} vs ${baseOf(r)} of the same block: ${fmt((h / base(r) - 1) * 100, 1)} % wall, ${fmt((hc / cpuBase(r) - 1) * 100, 1)} % CPU (goal ≤ 10 %)`,
      );
    }
    if (triton) {
      for (const r of (
        ['HTTP tritonclient', 'HTTP tritonclient (UINT8 out)', 'HTTP tritonclient (FP16 out)'] as const
      ).filter(timed)) {
        const h = median(times.get(r) ?? []);
        console.log(
          `overhead ${r} vs ${baseOf(r)} of the same block: ${fmt((h / base(r) - 1) * 100, 1)} % wall (goal ≤ 10 %)`,
        );
      }
    }
    console.log(`# ${opt.rounds} interleaved rounds after a warm-up; ${checks.join('; ')}`);
    console.log(`# after:  ${loadNote()}`);
  } finally {
    triton?.close();
    await backend.dispose();
    child.kill('SIGTERM');
    onSocket.child.kill('SIGTERM');
    await Promise.all([nodeShm.input.close(), nodeShm.output.close()]);
    for (const f of nodeShm.files) rmSync(f, { force: true });
  }
}

await main();
