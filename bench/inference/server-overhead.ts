/**
 * Bench 2: `POST /v2/models/{id}/infer` with binary tensors vs the same block in-process.
 * The bench exports the bundle into /tmp, starts `bioimage-export serve` on a loopback port (a
 * child process, server defaults: 1 worker × 1 intra-op thread), and times, interleaved round by
 * round on one raw uint8 block:
 *   in-process run      runtime loadBackend(workers 1) on the preprocessed block (its valid output)
 *   in-process as server predictArray exactly as server/infer.ts does for output_mode=valid
 *   in-process valid ext. predictArray with extent 'valid' (what the server could call instead)
 *   HTTP Node fetch     binary request (UINT8 in) and binary response (FP32 out), decoded
 *   HTTP tritonclient   the same through Triton's Python client (skip with --triton 0)
 * Overhead = HTTP / in-process − 1 (goal ≤ 10 %).
 *
 *   node --import tsx bench/inference/server-overhead.ts [--preset lsd-small-mtlsd] [--block 128] [--rounds 5]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type NdArray, ndarray, predictArray, writeNpy } from '../../runtime/index.js';
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
  pythonWorker,
  SCRATCH,
  table,
} from './common.js';

const opt = flags({ preset: 'lsd-small-mtlsd', block: 128, rounds: 5, triton: 1 });

async function startServe(weights: string, work: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
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
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const url = await new Promise<string>((res, rej) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m) res(m[1] as string);
    });
    child.on('exit', (code) => rej(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { url, child };
}

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
  // Copy out of the (possibly unaligned) Buffer into a Float32Array: what a client must do anyway.
  const bytes = body.subarray(hl, hl + o.parameters.binary_data_size);
  const data = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { dtype: 'float32', shape: o.shape, data };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

async function main() {
  const bundle = ensureBundle(opt.preset);
  const g = await bundleGeometry(bundle);
  const s = opt.block;
  const block = [s, s, s];
  checkBlock(g, block);
  const outShape = block.map((v, i) => v - 2 * (g.halo[i] as number));
  const outVox = outShape.reduce((a, b) => a * b, 1);

  // A served copy: weights/<id>/ with the bundle (the id is the bundle folder's name).
  const work = join(SCRATCH, 'serve');
  rmSync(work, { recursive: true, force: true });
  const weights = join(work, 'weights');
  mkdirSync(weights, { recursive: true });
  cpSync(bundle, join(weights, opt.preset), { recursive: true });

  // The raw block (uint8, as a client would send EM data) and its preprocessed float32 form.
  const raw = new Uint8Array(s * s * s);
  let st = 0x2545f491;
  for (let i = 0; i < raw.length; i++) {
    st ^= st << 13;
    st ^= st >>> 17;
    st ^= st << 5;
    raw[i] = (st >>> 0) & 255;
  }
  const rawNpy = join(work, `raw-${s}.npy`);
  await writeNpy(rawNpy, { dtype: 'uint8', shape: [1, 1, s, s, s], data: raw });
  const norm = () => {
    const x = ndarray('float32', [1, 1, s, s, s]);
    for (let i = 0; i < raw.length; i++) x.data[i] = (raw[i] as number) * g.gain + g.offset;
    return x;
  };

  console.log(
    `# bench/inference/server-overhead: ${opt.preset}, raw uint8 block ${block.join('×')} → valid output ${outShape.join('×')} × ${g.outputChannels} ch (FP32, ${fmt((outVox * g.outputChannels * 4) / 2 ** 20, 1)} MiB)`,
  );
  console.log(`# before: ${loadNote()}`);
  const { url, child } = await startServe(weights, work);
  const backend = await loadBackend(join(bundle, 'model.onnx'), { workers: 1 }); // = server defaults
  const triton = opt.triton ? pythonWorker(join(HERE, 'triton_client_worker.py')) : undefined;
  try {
    const inProcess = async () => {
      const x = norm(); // preprocessing is part of what the server does per request, so it is timed
      const y = await backend.run({ [g.inputName]: x }, { transfer: true });
      return Object.values(y)[0] as NdArray<'float32'>;
    };
    const geometry = {
      minInput: g.minInput,
      step: g.step,
      halo: g.halo,
      inputChannels: 1,
      outputChannels: g.outputChannels,
    };
    const tiled = (extent: 'same' | 'valid') =>
      predictArray(
        { dtype: 'uint8', shape: [1, s, s, s], data: raw },
        {
          backend,
          geometry,
          memoryBudgetBytes: 2 ** 30,
          padding: 'zero',
          extent,
          normalization: { kind: 'scale_linear', gain: g.gain, offset: g.offset },
        },
      );
    // server/infer.ts, output_mode=valid: predictArray (zero padding, 1 GiB budget) over the input, cropped later.
    const asServer = () => tiled('same');
    const http = () => inferHttp(url, opt.preset, g.inputName, raw, [1, 1, s, s, s]);

    // Same numbers from every path (else the timings compare different work).
    const ref = await inProcess();
    const viaHttp = await http();
    const refNpy = join(work, `ref-${s}.npy`);
    await writeNpy(refNpy, ref);
    const checks = [`HTTP max |Δ| vs in-process = ${maxAbsDiff(viaHttp.data, ref.data).toExponential(2)}`];
    if (triton) {
      await triton.ask({ cmd: 'setup', url: url.replace('http://', ''), model: opt.preset, input: rawNpy });
      const c = await triton.ask({ cmd: 'check', reference: refNpy });
      checks.push(`tritonclient max |Δ| = ${Number(c.max_abs).toExponential(2)}`);
    }
    await asServer(); // warm-up of the padded shape
    const v = await tiled('valid');
    checks.push(`predictArray extent valid max |Δ| = ${maxAbsDiff(v.data, ref.data).toExponential(2)}`);

    type Row =
      | 'in-process run'
      | 'in-process as server'
      | 'in-process valid ext.'
      | 'HTTP Node fetch'
      | 'HTTP tritonclient';
    const rowsUsed: Row[] = [
      'in-process run',
      'in-process as server',
      'in-process valid ext.',
      'HTTP Node fetch',
    ];
    if (triton) rowsUsed.push('HTTP tritonclient');
    const once = async (r: Row): Promise<number> => {
      if (r === 'HTTP tritonclient') return Number((await triton?.ask({ cmd: 'run' }))?.ms);
      const t0 = performance.now();
      if (r === 'in-process run') await inProcess();
      else if (r === 'in-process as server') await asServer();
      else if (r === 'in-process valid ext.') await tiled('valid');
      else await http();
      return performance.now() - t0;
    };
    const times = new Map<Row, number[]>();
    for (let k = 0; k < opt.rounds; k++) {
      for (let j = 0; j < rowsUsed.length; j++) {
        const r = rowsUsed[(j + k) % rowsUsed.length] as Row;
        times.set(r, [...(times.get(r) ?? []), await once(r)]);
      }
      process.stderr.write(`round ${k + 1}/${opt.rounds} done\n`);
    }
    const base = median(times.get('in-process run') ?? []);
    const asSrv = median(times.get('in-process as server') ?? []);
    console.log(
      table(
        ['path', 'ms/request (median)', 'range ms', 'Mvox/s (output)', 'vs in-process run', 'vs as-server'],
        rowsUsed.map((r) => {
          const ts = times.get(r) ?? [];
          const m = median(ts);
          const pct = (v: number) => `${v >= 0 ? '+' : ''}${fmt(v * 100, 1)} %`;
          return [
            r,
            fmt(m, 1),
            `${fmt(Math.min(...ts), 0)}–${fmt(Math.max(...ts), 0)}`,
            fmt(outVox / (m / 1000) / 1e6, 3),
            pct(m / base - 1),
            pct(m / asSrv - 1),
          ];
        }),
      ),
    );
    const h = median(times.get('HTTP Node fetch') ?? []);
    console.log(
      `overhead HTTP (Node fetch) vs in-process run of the same block: ${fmt((h / base - 1) * 100, 1)} % (goal ≤ 10 %); transport only (vs in-process as server): ${fmt((h / asSrv - 1) * 100, 1)} %`,
    );
    console.log(`# ${opt.rounds} interleaved rounds after a warm-up; ${checks.join('; ')}`);
    console.log(`# after:  ${loadNote()}`);
  } finally {
    triton?.close();
    await backend.dispose();
    child.kill('SIGTERM');
  }
}

await main();
