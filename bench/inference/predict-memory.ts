/**
 * Bench 4: peak memory of `bioimage-export predict` on a small vs a large volume (default 128³ vs
 * 512³ uint8 zarr, made here in /tmp) with the same settings. Max RSS comes from /usr/bin/time -v
 * around the predict process (worker threads share that process, so they are included).
 * Goal: about the same peak for both sizes (memory bounded by blocks in flight, not volume size).
 *
 *   node --import tsx bench/inference/predict-memory.ts [--sizes 128,512] [--threads 2] [--memory-mb 1024] [--rounds 3]
 *   (--block Z: a fixed block edge instead of the planner's choice from --memory-mb; with
 *   --same-block 1, the default, smaller sizes also run at the largest size's block)
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { blockBytes, planTiles } from '../../runtime/index.js';
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
  predictTiling,
  runPython,
  SCRATCH,
  table,
} from './common.js';

const opt = flags({
  preset: 'lsd-small-mtlsd',
  sizes: '128,512',
  threads: 2,
  memoryMb: 1024,
  rounds: 3,
  block: 0,
  sameBlock: 1,
});

interface Usage {
  maxRssMb: number;
  wallS: number;
  cpuS: number;
}

/** Runs a command under /usr/bin/time -v; returns its max RSS, wall and CPU time. */
function timeV(args: string[]): Promise<Usage> {
  return new Promise((res, rej) => {
    const child = spawn('/usr/bin/time', ['-v', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-800)}`));
      const num = (re: RegExp) => Number(re.exec(err)?.[1] ?? Number.NaN);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(err);
      res({
        maxRssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
        wallS: wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN,
        cpuS: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
      });
    });
  });
}

async function main() {
  const bundle = ensureBundle(opt.preset);
  const g = await bundleGeometry(bundle);
  const sizes = opt.sizes.split(',').map(Number);
  const geometry = modelGeometry(g);
  if (opt.block) checkBlock(g, [opt.block, opt.block, opt.block]);
  const dir = join(SCRATCH, 'memory');
  for (const n of sizes) {
    process.stderr.write(
      await runPython([join(HERE, 'make_volume.py'), join(dir, `raw-${n}.zarr`), String(n)]),
    );
  }
  console.log(
    `# bench/inference/predict-memory: ${opt.preset}, predict --threads ${opt.threads} --memory-mb ${opt.memoryMb}${opt.block ? ` --block ${opt.block}` : ''} --uint8, ${opt.rounds} run(s) per row`,
  );
  const planFor = (n: number, block?: number[]) =>
    planTiles([n, n, n], geometry, {
      ...predictTiling(opt.memoryMb, opt.threads),
      ...(block ? { blockInput: block } : opt.block ? { blockInput: [opt.block, opt.block, opt.block] } : {}),
    });
  // Rows: every size with the planner's (or --block's) choice; with --same-block 1 also the smaller
  // sizes at the largest size's block, so the volume is the only difference.
  interface Variant {
    label: string;
    n: number;
    block: number[];
    explicit: boolean;
  }
  const largest = Math.max(...sizes);
  const bigBlock = [...planFor(largest).blockInput];
  const variants: Variant[] = sizes.map((n) => ({
    label: `${n}³`,
    n,
    block: [...planFor(n).blockInput],
    explicit: opt.block > 0,
  }));
  if (opt.sameBlock) {
    for (const n of sizes) {
      if (n !== largest && planFor(n).blockInput[0] !== bigBlock[0]) {
        variants.push({ label: `${n}³ --block ${bigBlock[0]}`, n, block: bigBlock, explicit: true });
      }
    }
  }
  for (const v of variants) {
    const p = planFor(v.n, v.block);
    console.log(
      `#   ${v.label}: block ${p.blockInput.join('×')} → ${p.blockOutput.join('×')}, ${p.blockCount} blocks; input ${fmt(v.n ** 3 / 2 ** 20, 0)} MiB uint8, output ${fmt((g.outputChannels * v.n ** 3) / 2 ** 20, 0)} MiB uint8`,
    );
  }
  console.log(`# before: ${loadNote()}`);

  const runs = new Map<string, Usage[]>();
  for (let r = 0; r < opt.rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const out = join(dir, `out-${v.n}.zarr`);
      rmSync(out, { recursive: true, force: true });
      rmSync(`${out}.done.jsonl`, { force: true });
      const args = [process.execPath, CLI, 'predict', '-q', '--uint8', '--model', bundle];
      args.push('--input', `${join(dir, `raw-${v.n}.zarr`)}/volumes/raw`, '--output', out);
      args.push('--threads', String(opt.threads), '--memory-mb', String(opt.memoryMb));
      if (v.explicit) args.push('--block', v.block.join(','));
      const u = await timeV(args);
      runs.set(v.label, [...(runs.get(v.label) ?? []), u]);
      process.stderr.write(`${v.label} run ${r + 1}: ${fmt(u.maxRssMb, 0)} MiB, ${fmt(u.wallS, 1)} s\n`);
    }
  }
  // What predict's planner expects the process to peak at for a block: its own base plus one
  // block in flight per worker (cli/commands/predict.ts, runtime blockBytes, uint8 output).
  const estimateMb = (block: number[]) =>
    170 + 50 * opt.threads + (opt.threads * blockBytes(geometry, block, undefined, 1)) / 2 ** 20;
  const rssOf = (label: string) => median((runs.get(label) ?? []).map((u) => u.maxRssMb));
  const big = rssOf(`${largest}³`);
  console.log(
    table(
      [
        'volume',
        'block',
        'max RSS MiB (median)',
        'runs MiB',
        'wall s (median)',
        'Mvox/s',
        `RSS ${largest}³ / row`,
        "planner's estimate MiB",
        'RSS / estimate',
        'RSS / --memory-mb',
      ],
      variants.map((v) => {
        const us = runs.get(v.label) ?? [];
        const wall = median(us.map((u) => u.wallS));
        return [
          v.label,
          String(v.block[0]),
          fmt(rssOf(v.label), 0),
          us.map((u) => fmt(u.maxRssMb, 0)).join(' '),
          fmt(wall, 1),
          fmt(v.n ** 3 / wall / 1e6, 3),
          fmt(big / rssOf(v.label), 2),
          fmt(estimateMb(v.block), 0),
          fmt(rssOf(v.label) / estimateMb(v.block), 2),
          v.explicit
            ? `${fmt(rssOf(v.label) / opt.memoryMb, 2)} (--block)`
            : fmt(rssOf(v.label) / opt.memoryMb, 2),
        ];
      }),
    ),
  );
  for (const v of variants.filter((x) => x.n !== largest)) {
    console.log(
      `peak memory ${largest}³ / ${v.label} = ${fmt(big / rssOf(v.label), 2)} (goal: about 1; volume ratio ${fmt((largest / v.n) ** 3, 0)}×)`,
    );
  }
  console.log(
    `# goal: max RSS near --memory-mb ${opt.memoryMb} for the planner's blocks (rows without --block); --block rows ignore the budget`,
  );
  console.log(`# after:  ${loadNote()}`);
}

await main();
