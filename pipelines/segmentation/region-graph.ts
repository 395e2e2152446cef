/**
 * Fragments + affinities → region adjacency graph, as emzoo.evaluate.watershed.region_graph: for
 * every channel c and voxel p with fragments a = frag(p), b = frag(p + offset_c), a ≠ b, neither 0,
 * the affinity of c at p joins the edge (min, max). Sums are added in the reference's order
 * (channel by channel, raster order), so they are bit-identical.
 */
import type { Affinities } from './affinities.js';
import type { Fragments } from './fragments-from-affinities.js';

export interface RegionGraph {
  /** Edge endpoints, u < v, sorted by (u, v). */
  readonly u: Int32Array;
  readonly v: Int32Array;
  /** Summed affinities and voxel-pair counts per edge. */
  readonly sums: Float64Array;
  readonly counts: Float64Array;
}

export function regionGraph(affs: Affinities, frags: Fragments): RegionGraph {
  const [nz, ny, nx] = frags.shape;
  const n = nz * ny * nx;
  const width = frags.count + 1;
  const index = new Map<number, number>();
  const sums: number[] = [];
  const counts: number[] = [];
  const f = frags.data;
  affs.offsets.forEach(([oz, oy, ox], c) => {
    const delta = (oz * ny + oy) * nx + ox;
    for (let z = Math.max(0, -oz); z < Math.min(nz, nz - oz); z++) {
      for (let y = Math.max(0, -oy); y < Math.min(ny, ny - oy); y++) {
        const row = (z * ny + y) * nx;
        for (let x = Math.max(0, -ox); x < Math.min(nx, nx - ox); x++) {
          const p = row + x;
          const a = f[p] as number;
          const b = f[p + delta] as number;
          if (a === b || a === 0 || b === 0) continue;
          const key = a < b ? a * width + b : b * width + a;
          let e = index.get(key);
          if (e === undefined) {
            e = sums.length;
            index.set(key, e);
            sums.push(0);
            counts.push(0);
          }
          sums[e] = (sums[e] as number) + (affs.data[c * n + p] as number);
          counts[e] = (counts[e] as number) + 1;
        }
      }
    }
  });
  const keys = [...index.keys()].sort((p, q) => p - q);
  const out = {
    u: new Int32Array(keys.length),
    v: new Int32Array(keys.length),
    sums: new Float64Array(keys.length),
    counts: new Float64Array(keys.length),
  };
  keys.forEach((key, k) => {
    const e = index.get(key) as number;
    out.u[k] = Math.floor(key / width);
    out.v[k] = key % width;
    out.sums[k] = sums[e] as number;
    out.counts[k] = counts[e] as number;
  });
  return out;
}
