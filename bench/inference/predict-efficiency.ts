/**
 * Bench 3: `bioimage-export predict` over a SIZE³ uint8 zarr (made here, in /tmp) vs
 *   (a) the raw session's throughput × the voxel count: runtime's pool backend with the same
 *       workers × 1 intra-op thread, `threads` blocks run concurrently (efficiency goal ≥ 0.85);
 *   (b) a straightforward Python loop (PyTorch eager + zarr, non-overlapping valid tiles with halo
 *       reads, written to zarr; bench/inference/python_loop.py) with the same block and threads.
 * Every run is a fresh process timed end to end (start-up included); rounds are interleaved.
 * With --default-block 1 it also runs predict with the block its memory planner picks by default.
 *
 *   node --import tsx bench/inference/predict-efficiency.ts [--size 256] [--block 168] [--threads 2] [--rounds 3]
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend, ndarray, openVolume, planTiles } from '../../runtime/index.js';
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
  PYTHON,
  predictTiling,
  pythonEnv,
  runPython,
  SCRATCH,
  table,
} from './common.js';

const opt = flags({
  preset: 'lsd-small-mtlsd',
  size: 256,
  block: 168,
  threads: 2,
  rounds: 3,
  defaultBlock: 1,
  memoryMb: 1024,
});

/** Wall seconds of a child process from spawn to exit (throws on a non-zero exit). */
function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ s: number; out: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) =>
      code === 0
        ? res({ s: (performance.now() - t0) / 1000, out })
        : rej(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-800)}`)),
    );
  });
}

async function main() {
  const bundle = ensureBundle(opt.preset);
  const g = await bundleGeometry(bundle);
  const n = opt.size;
  const vox = n ** 3;
  const geometry = modelGeometry(g);
  const chosen = [opt.block, opt.block, opt.block];
  checkBlock(g, chosen);
  // The block predict's planner picks from --memory-mb, to show what a default run costs.
  const dflt = planTiles([n, n, n], geometry, predictTiling(opt.memoryMb, opt.threads));
  const planOf = (b: number[]) =>
    planTiles([n, n, n], geometry, { memoryBudgetBytes: 2 ** 40, blockInput: b });
  const defaultBlock = [...dflt.blockInput];
  const blocks = [chosen, ...(opt.defaultBlock && defaultBlock[0] !== opt.block ? [defaultBlock] : [])];

  const dir = join(SCRATCH, 'predict');
  const rawZarr = join(dir, `raw-${n}.zarr`);
  const input = `${rawZarr}/volumes/raw`;
  process.stderr.write(await runPython([join(HERE, 'make_volume.py'), rawZarr, String(n)]));

  console.log(
    `# bench/inference/predict-efficiency: ${opt.preset} over ${n}³ uint8 (${fmt(vox / 1e6, 1)} Mvox), ${opt.threads} worker thread(s) × 1 intra-op thread, uint8 output, ${opt.rounds} rounds`,
  );
  for (const b of blocks) {
    const p = planOf(b);
    const computed = p.blockCount * p.blockOutput.reduce((a, v) => a * v, 1);
    console.log(
      `#   block ${b.join('×')} → output ${p.blockOutput.join('×')}: ${p.blockCount} blocks (grid ${p.grid.join('×')}), computed output voxels / volume voxels = ${fmt(computed / vox, 2)}${b === defaultBlock ? ` (default for --memory-mb ${opt.memoryMb})` : ''}`,
    );
  }
  console.log(`# before: ${loadNote()}`);

  // Raw session throughput per block size: `threads` concurrent runs on the pool backend.
  const backend = await loadBackend(join(bundle, 'model.onnx'), { workers: opt.threads });
  const rawRun = async (b: number[]) => {
    const feed = () => {
      const x = ndarray('float32', [1, 1, ...b]);
      for (let i = 0; i < x.data.length; i++) x.data[i] = ((i * 2654435761) >>> 24) * g.gain + g.offset;
      return x;
    };
    const feeds = Array.from({ length: opt.threads }, feed);
    const t0 = performance.now();
    await Promise.all(feeds.map((x) => backend.run({ [g.inputName]: x }, { transfer: true })));
    const s = (performance.now() - t0) / 1000;
    const outVox = b.reduce((a, v, i) => a * (v - 2 * (g.halo[i] as number)), 1);
    return (opt.threads * outVox) / s; // output voxels per second
  };
  for (const b of blocks) await rawRun(b); // warm-up per shape

  const predictRun = async (b: number[] | undefined) => {
    const out = join(dir, `out-${b ? b[0] : 'default'}.zarr`);
    rmSync(out, { recursive: true, force: true });
    rmSync(`${out}.done.jsonl`, { force: true });
    const args = [CLI, 'predict', '-q', '--uint8', '--model', bundle, '--input', input, '--output', out];
    args.push('--threads', String(opt.threads), '--memory-mb', String(opt.memoryMb));
    if (b) args.push('--block', b.join(','));
    return (await timed(process.execPath, args)).s;
  };
  const pyOut = join(dir, 'out-python.zarr');
  const pythonRun = async () => {
    const args = [join(HERE, 'python_loop.py'), bundle, input, pyOut, '--block', String(opt.block)];
    args.push('--threads', String(opt.threads), '--uint8');
    const r = await timed(PYTHON, args, pythonEnv());
    return { s: r.s, loop: JSON.parse(r.out.trim().split('\n').pop() as string).loop_seconds as number };
  };

  const t = {
    raw: new Map<number, number[]>(),
    predict: new Map<number, number[]>(),
    python: [] as number[],
    pythonLoop: [] as number[],
  };
  const push = (m: Map<number, number[]>, k: number, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  for (let r = 0; r < opt.rounds; r++) {
    for (const b of blocks) push(t.raw, b[0] as number, await rawRun(b));
    const steps: (() => Promise<void>)[] = [
      async () => {
        push(t.predict, opt.block, await predictRun(chosen));
      },
      async () => {
        const p = await pythonRun();
        t.python.push(p.s);
        t.pythonLoop.push(p.loop);
      },
      ...blocks.slice(1).map((b) => async () => {
        push(t.predict, b[0] as number, await predictRun(undefined));
      }),
    ];
    for (let k = 0; k < steps.length; k++) await (steps[(k + r) % steps.length] as () => Promise<void>)();
    process.stderr.write(`round ${r + 1}/${opt.rounds} done\n`);
  }
  await backend.dispose();

  // Same numbers from both pipelines (uint8 rounding may differ by 1), on a region across tile seams.
  const a = await openVolume(join(dir, `out-${opt.block}.zarr`), { path: '0' });
  const p = await openVolume(pyOut);
  const c = Math.max(0, Math.floor(n / 2) - 32);
  const e = Math.min(n, c + 64);
  const region = { start: [0, c, c, c], stop: [g.outputChannels, e, e, e] };
  const ya = (await a.read(region)).data as Uint8Array;
  const yp = (await p.read(region)).data as Uint8Array;
  let maxDiff = 0;
  for (let i = 0; i < ya.length; i++)
    maxDiff = Math.max(maxDiff, Math.abs((ya[i] as number) - (yp[i] as number)));

  const rows: string[][] = [];
  const effOf = (b: number) => (wall: number) => vox / median(t.raw.get(b) ?? []) / wall;
  for (const b of blocks) {
    const k = b[0] as number;
    const rawTp = median(t.raw.get(k) ?? []);
    rows.push([
      `raw session ×${opt.threads} (block ${k})`,
      fmt(vox / rawTp, 1),
      fmt(rawTp / 1e6, 3),
      '1.00',
      '',
    ]);
  }
  const pyMed = median(t.python);
  for (const b of blocks) {
    const k = b[0] as number;
    const w = median(t.predict.get(k) ?? []);
    rows.push([
      `predict --block ${k}${k === opt.block ? '' : ' (default)'}`,
      fmt(w, 1),
      fmt(vox / w / 1e6, 3),
      fmt(effOf(k)(w), 2),
      fmt(pyMed / w, 2),
    ]);
  }
  rows.push([
    `Python loop (PyTorch+zarr, block ${opt.block})`,
    fmt(pyMed, 1),
    fmt(vox / pyMed / 1e6, 3),
    fmt(effOf(opt.block)(pyMed), 2),
    '1.00',
  ]);
  console.log(table(['run', 'seconds (median)', 'Mvox/s', 'efficiency vs raw', 'speed-up vs Python'], rows));
  const w = median(t.predict.get(opt.block) ?? []);
  console.log(
    `predict efficiency (block ${opt.block}) = ${fmt(effOf(opt.block)(w), 2)} (goal ≥ 0.85); predict vs Python loop: ${fmt(pyMed / w, 2)}× faster`,
  );
  console.log(
    `# all runs (s): predict ${[...t.predict].map(([k, v]) => `${k}: ${v.map((x) => fmt(x, 1)).join(' ')}`).join('; ')}; python ${t.python.map((x) => fmt(x, 1)).join(' ')} (loop only ${t.pythonLoop.map((x) => fmt(x, 1)).join(' ')}); raw Mvox/s ${[...t.raw].map(([k, v]) => `${k}: ${v.map((x) => fmt(x / 1e6, 3)).join(' ')}`).join('; ')}`,
  );
  console.log(`# predict vs Python uint8 outputs on a 64³ region across tile seams: max |Δ| = ${maxDiff}`);
  console.log(`# after:  ${loadNote()}`);
}

await main();
