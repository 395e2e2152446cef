/**
 * Where a description's files come from: a folder, a zip, or memory. Validation needs only the
 * list of names and the bytes of a name (`undefined` when absent, never a throw).
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { SpecError } from './errors.js';

export interface FileSource {
  /** For messages: the folder or zip path. */
  readonly label: string;
  /** Every file name, '/'-separated, relative to the root. */
  list(): Promise<readonly string[]>;
  read(name: string): Promise<Uint8Array | undefined>;
  /**
   * Optional: the sha256 (hex) of a file the caller has already streamed through a hash, so the
   * file checks need not read a large file (weights: hundreds of MB) only to hash it. `undefined`
   * = not known; the file is then read. Files whose content is checked are always read.
   */
  sha256?(name: string): Promise<string | undefined>;
}

/** RDF file names bioimageio.spec recognises, in priority order (`rdf.yaml` preferred). */
export const RDF_NAMES = ['rdf.yaml', 'bioimageio.yaml', 'model.yaml'] as const;

export function findRdfName(names: readonly string[]): string | undefined {
  for (const n of RDF_NAMES) if (names.includes(n)) return n;
  return [...names].sort().find((n) => !n.includes('/') && /\.(rdf|bioimageio)\.yaml$/.test(n));
}

/** Normalise a relative source path (`./a/b`, `a//b`) to the list's form. */
export function normalizeName(name: string): string {
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

export function memorySource(
  files: Readonly<Record<string, Uint8Array | string>>,
  label = 'memory',
): FileSource {
  const enc = new TextEncoder();
  const map = new Map(
    Object.entries(files).map(([k, v]) => [normalizeName(k), typeof v === 'string' ? enc.encode(v) : v]),
  );
  return {
    label,
    list: async () => [...map.keys()],
    read: async (name) => map.get(normalizeName(name)),
  };
}

export function folderSource(dir: string): FileSource {
  return {
    label: dir,
    async list() {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
    },
    async read(name) {
      const rel = normalizeName(name);
      if (rel.split('/').includes('..')) return undefined;
      const path = join(dir, rel);
      try {
        if (!(await stat(path)).isFile()) return undefined;
        return new Uint8Array(await readFile(path));
      } catch {
        return undefined;
      }
    },
  };
}

/** A zip in memory; entries are inflated lazily, one at a time. */
export function zipSource(zipBytes: Uint8Array, label = 'zip'): FileSource {
  // fflate's filter sees every entry even when it extracts none: collect the names through it.
  const names: string[] = [];
  try {
    unzipSync(zipBytes, {
      filter: (f) => {
        if (!f.name.endsWith('/')) names.push(f.name);
        return false;
      },
    });
  } catch (cause) {
    throw new SpecError(
      'FileSourceError',
      `${label} is not a readable zip archive`,
      'Re-create the zip (DEFLATE or STORE entries).',
      {
        cause,
      },
    );
  }
  return {
    label,
    list: async () => names,
    async read(name) {
      const want = normalizeName(name);
      if (!names.includes(want)) return undefined;
      return unzipSync(zipBytes, { filter: (f) => f.name === want })[want];
    },
  };
}
