/**
 * Bench 1: one bundle, one input block, three engines — onnxruntime-node (runtime's OrtBackend on
 * the calling thread), Python onnxruntime, PyTorch eager (architecture.py + state_dict.pt) — at 1
 * and 2 intra-op threads (1 inter-op thread everywhere). Runs are interleaved engine by engine,
 * round by round, so load drift hits all engines alike; medians are printed with ratios.
 *
 *   node --import tsx bench/inference/backends.ts [--preset lsd-small-mtlsd] [--block 128] [--rounds 7]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, type NdArray, ndarray, writeNpy } from '../../runtime/index.js';
import {
  bundleGeometry,
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

const opt = flags({ preset: 'lsd-small-mtlsd', block: 128, rounds: 7, threads: '1,2' });
const threadCounts = opt.threads.split(',').map(Number);

/** Deterministic EM-like block: uint8 intensities (xorshift), then the bundle's preprocessing. */
function makeBlock(size: number, gain: number, offset: number): NdArray<'float32'> {
  const x = ndarray('float32', [1, 1, size, size, size]);
  let s = 0x9e3779b9;
  for (let i = 0; i < x.data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    x.data[i] = ((s >>> 0) & 255) * gain + offset;
  }
  return x;
}

async function main() {
  const bundle = ensureBundle(opt.preset);
  const g = await bundleGeometry(bundle);
  const block = [opt.block, opt.block, opt.block];
  checkBlock(g, block);
  const outVox = block.reduce((a, s, i) => a * (s - 2 * (g.halo[i] as number)), 1);
  const dir = join(SCRATCH, 'backends');
  mkdirSync(dir, { recursive: true });
  const x = makeBlock(opt.block, g.gain, g.offset);
  const inputNpy = join(dir, `input-${opt.block}.npy`);
  await writeNpy(inputNpy, x);

  console.log(
    `# bench/inference/backends: ${opt.preset}, input block ${block.join('×')} → output ${block.map((s, i) => s - 2 * (g.halo[i] as number)).join('×')} × ${g.outputChannels} ch`,
  );
  console.log(`# before: ${loadNote()}`);

  const node = new Map<number, Awaited<ReturnType<typeof loadBackend>>>();
  for (const t of threadCounts) {
    node.set(
      t,
      await loadBackend(join(bundle, 'model.onnx'), { workers: 0, intraOpThreads: t, interOpThreads: 1 }),
    );
  }
  const py = pythonWorker(join(HERE, 'backends_worker.py'));
  const versions = await py.ask({ cmd: 'setup', bundle, input: inputNpy, threads: threadCounts });
  const runNode = async (t: number) => {
    const b = node.get(t);
    if (!b) throw new Error(`no session for ${t} threads`);
    const t0 = performance.now();
    const y = await b.run({ [g.inputName]: { ...x, data: x.data } });
    return { ms: performance.now() - t0, y: Object.values(y)[0] as NdArray<'float32'> };
  };

  // Correctness first: every engine must compute the same block (else the timing compares nothing).
  const ref = (await runNode(threadCounts[0] as number)).y;
  const refNpy = join(dir, `node-output-${opt.block}.npy`);
  await writeNpy(refNpy, ref);
  const agree: string[] = [];
  for (const engine of ['ort', 'torch']) {
    const c = await py.ask({ cmd: 'check', engine, threads: threadCounts[0], reference: refNpy });
    agree.push(`${engine} max |Δ| vs node = ${Number(c.max_abs).toExponential(2)}`);
  }

  type Engine = 'onnxruntime-node' | 'onnxruntime (Python)' | 'PyTorch eager';
  const engines: Engine[] = ['onnxruntime-node', 'onnxruntime (Python)', 'PyTorch eager'];
  const once = async (e: Engine, t: number): Promise<number> => {
    if (e === 'onnxruntime-node') return (await runNode(t)).ms;
    const r = await py.ask({ cmd: 'run', engine: e === 'PyTorch eager' ? 'torch' : 'ort', threads: t });
    return Number(r.ms);
  };
  const times = new Map<string, number[]>();
  for (const t of threadCounts) for (const e of engines) await once(e, t); // warm-up (allocator, first-run)
  for (let r = 0; r < opt.rounds; r++) {
    for (const t of threadCounts) {
      // Rotate the order each round so no engine always runs right after another one's spin-down.
      for (let k = 0; k < engines.length; k++) {
        const e = engines[(k + r) % engines.length] as Engine;
        const key = `${e}|${t}`;
        times.set(key, [...(times.get(key) ?? []), await once(e, t)]);
      }
    }
    process.stderr.write(`round ${r + 1}/${opt.rounds} done\n`);
  }
  py.close();
  for (const b of node.values()) await b.dispose();

  const rows: string[][] = [];
  for (const t of threadCounts) {
    const base = median(times.get(`onnxruntime-node|${t}`) ?? []);
    for (const e of engines) {
      const ts = times.get(`${e}|${t}`) ?? [];
      const m = median(ts);
      rows.push([
        e,
        String(t),
        fmt(m, 1),
        `${fmt(Math.min(...ts), 0)}–${fmt(Math.max(...ts), 0)}`,
        fmt(outVox / (m / 1000) / 1e6, 3),
        fmt(m / base, 2),
      ]);
    }
  }
  console.log(
    table(['engine', 'threads', 'ms/block (median)', 'range ms', 'Mvox/s (output)', 'time / node'], rows),
  );
  for (const t of threadCounts.slice(1)) {
    const one = (e: Engine) => median(times.get(`${e}|${threadCounts[0]}`) ?? []);
    const many = (e: Engine) => median(times.get(`${e}|${t}`) ?? []);
    console.log(
      `speed-up ${threadCounts[0]}→${t} threads: ${engines.map((e) => `${e} ${fmt(one(e) / many(e), 2)}×`).join(', ')}`,
    );
  }
  console.log(`# ${opt.rounds} interleaved rounds after 1 warm-up run each; ${agree.join('; ')}`);
  console.log(
    `# versions: onnxruntime-node ${(await import('onnxruntime-node')).env.versions.node}, Python onnxruntime ${versions.onnxruntime}, torch ${versions.torch}`,
  );
  console.log(`# after:  ${loadNote()}`);
}

await main();
