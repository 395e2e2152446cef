/** Reads a bioimage.io zip: the entry list and single entries, checking it is flat with rdf.yaml at the root. */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { ExportError } from './errors.js';

export interface ZipContents {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly names: readonly string[];
  get(name: string): Uint8Array;
}

export function readZip(path: string): ZipContents {
  let files: Record<string, Uint8Array>;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
    files = unzipSync(bytes);
  } catch (err) {
    throw new ExportError('ZipInvalid', `${path} is not a readable zip: ${(err as Error).message}`, {
      hint: 'pass a zip made by `bioimage-export package`, or an rdf.yaml',
      cause: err,
    });
  }
  const names = Object.keys(files).filter((n) => !n.endsWith('/'));
  if (!names.includes('rdf.yaml')) {
    throw new ExportError(
      'ZipInvalid',
      `${path} has no rdf.yaml at its root (entries: ${names.slice(0, 8).join(', ')})`,
      {
        hint: 'deepImageJ and bioimageio.core need rdf.yaml at the zip root; repackage with `bioimage-export package`',
      },
    );
  }
  return {
    path,
    bytes,
    names,
    get(name) {
      const f = files[name];
      if (f === undefined) {
        throw new ExportError('ZipInvalid', `${path} has no entry ${name}, which its rdf.yaml references`, {
          hint: 'repackage with `bioimage-export package`',
        });
      }
      return f;
    },
  };
}
