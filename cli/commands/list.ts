/** `list`: bundles in weights/ with their state (valid / untrained / invalid) and whether a zip exists. */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { isExportError, readBundle, verifyBundleHashes } from '../../exporters/index.js';
import { bundleDirs, DEFAULT_DIST, DEFAULT_WEIGHTS } from '../bundles.js';
import type { Io } from '../io.js';

export interface BundleRow {
  readonly id: string;
  readonly dir: string;
  readonly task: string | null;
  readonly state: 'valid' | 'untrained' | 'invalid';
  readonly problem: string | null;
  readonly packaged: 'yes' | 'stale' | 'no';
  readonly zip: string | null;
}

export async function listBundles(weights: string, dist: string, verify = false): Promise<BundleRow[]> {
  const rows: BundleRow[] = [];
  for (const dir of bundleDirs(weights)) {
    let id = basename(dir);
    let task: string | null = null;
    let state: BundleRow['state'] = 'valid';
    let problem: string | null = null;
    try {
      const b = readBundle(dir);
      id = b.id;
      task = b.task;
      if (verify) await verifyBundleHashes(b, () => {});
      if (!b.trained) state = 'untrained';
    } catch (err) {
      if (!isExportError(err)) throw err;
      state = 'invalid';
      problem = err.message;
    }
    const zip = join(dist, `${id}.zip`);
    const packaged = !existsSync(zip)
      ? 'no'
      : statSync(zip).mtimeMs >= statSync(join(dir, 'bundle.yaml')).mtimeMs
        ? 'yes'
        : 'stale';
    rows.push({ id, dir, task, state, problem, packaged, zip: packaged === 'no' ? null : zip });
  }
  return rows;
}

export function listCommand(io: Io): Command {
  return new Command('list')
    .description(
      'list the bundles in weights/ and their state: valid, untrained or invalid (schema, files; --verify: hashes); packaged or not',
    )
    .option('--weights <dir>', 'folder of bundles', DEFAULT_WEIGHTS)
    .option('--out <dir>', 'folder of packaged zips', DEFAULT_DIST)
    .option('--verify', 'also check every file against its sha256 in bundle.yaml (reads all weights)')
    .option('--json', 'print JSON')
    .action(async (opts: { weights: string; out: string; verify?: boolean; json?: boolean }) => {
      const rows = await listBundles(opts.weights, opts.out, opts.verify === true);
      if (opts.json) {
        io.out(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        io.out(
          `no bundles in ${opts.weights}/ (export one with \`.venv/bin/emzoo export --preset NAME --out ${opts.weights}/NAME\`)\n`,
        );
        return;
      }
      const w = Math.max(...rows.map((r) => r.id.length), 2);
      io.out(`${'id'.padEnd(w)}  task      state      packaged\n`);
      for (const r of rows) {
        io.out(
          `${r.id.padEnd(w)}  ${(r.task ?? '-').padEnd(8)}  ${r.state.padEnd(9)}  ${r.packaged}${r.zip ? ` (${r.zip})` : ''}\n`,
        );
        if (r.problem) io.out(`${' '.repeat(w)}  ↳ ${r.problem}\n`);
      }
    });
}
