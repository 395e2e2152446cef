/** Untrusted zarr location, ROI and triple strings (CLI flags, job bodies) → typed values. */
import { ServeError } from './errors.js';

export interface ZarrLocation {
  /** The zarr container folder (…/x.zarr). */
  readonly container: string;
  /** Node path inside it ('' = the root). */
  readonly path: string;
}

/** "a/b.zarr/volumes/raw" → container a/b.zarr, path volumes/raw (split after the last *.zarr/*.n5 segment). */
export function parseZarrLocation(s: string): ZarrLocation {
  const parts = s.split('/');
  let cut = -1;
  parts.forEach((p, i) => {
    if (/\.(zarr|n5)$/i.test(p)) cut = i;
  });
  if (cut < 0) return { container: s, path: '' };
  return {
    container: parts.slice(0, cut + 1).join('/'),
    path: parts
      .slice(cut + 1)
      .filter((p) => p !== '')
      .join('/'),
  };
}

export interface Roi {
  readonly start: readonly number[];
  readonly stop: readonly number[];
}

const argErr = (message: string, hint: string) => new ServeError('InvalidArgument', message, { hint });

/** "z0:z1,y0:y1,x0:x1" → Roi (half-open, voxels). */
export function parseRoi(s: string): Roi {
  const axes = s.split(',').map((a) => /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(a));
  if (axes.length !== 3 || axes.some((m) => !m || Number(m[1]) >= Number(m[2]))) {
    throw argErr(
      `roi '${s}' is not z0:z1,y0:y1,x0:x1 with z0 < z1 …`,
      'e.g. --roi 0:64,100:228,100:228 (voxels, end exclusive)',
    );
  }
  const m = axes as RegExpExecArray[];
  return { start: m.map((x) => Number(x[1])), stop: m.map((x) => Number(x[2])) };
}

/** "Z,Y,X" → three positive integers. */
export function parseTriple(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 1)) {
    throw argErr(`${what} '${s}' is not three positive integers Z,Y,X`, `e.g. ${what} 64,128,128`);
  }
  return v;
}
