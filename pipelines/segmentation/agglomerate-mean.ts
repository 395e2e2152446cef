/**
 * Greedy mean-affinity agglomeration (waterz's 'mean' merge function), as
 * emzoo.evaluate.watershed.agglomerate_mean: the edge with the highest mean boundary affinity is
 * merged while that mean is ≥ threshold; the merged region's edges add their sums and counts.
 * Ties are popped in the reference's order (−mean, u, v), so the partition is the same.
 */
import type { Affinities } from './affinities.js';
import type { Fragments } from './fragments-from-affinities.js';
import { regionGraph } from './region-graph.js';
import { ScoreQueue } from './score-queue.js';

interface Edge {
  s: number;
  n: number;
}

export function agglomerateMean(affs: Affinities, frags: Fragments, threshold = 0.5): Fragments {
  const graph = regionGraph(affs, frags);
  const parent = new Int32Array(frags.count + 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[x] !== root) {
      const next = parent[x] as number;
      parent[x] = root;
      x = next;
    }
    return root;
  };
  const adjacency = new Map<number, Map<number, Edge>>();
  const neighbours = (r: number): Map<number, Edge> => {
    let m = adjacency.get(r);
    if (m === undefined) {
      m = new Map();
      adjacency.set(r, m);
    }
    return m;
  };
  const queue = new ScoreQueue();
  for (let k = 0; k < graph.u.length; k++) {
    const u = graph.u[k] as number;
    const v = graph.v[k] as number;
    const edge = { s: graph.sums[k] as number, n: graph.counts[k] as number };
    neighbours(u).set(v, edge);
    neighbours(v).set(u, edge);
    queue.push(-edge.s / edge.n, u, v);
  }
  while (queue.size > 0) {
    const [negScore, u, v] = queue.pop();
    if (-negScore < threshold) break;
    const nu = adjacency.get(u);
    if (find(u) !== u || find(v) !== v || nu === undefined || !nu.has(v)) continue; // stale
    const current = nu.get(v) as Edge;
    if (Math.abs(current.s / current.n + negScore) > 1e-12) continue; // stale score
    parent[v] = u;
    nu.delete(v);
    const nv = adjacency.get(v) ?? new Map<number, Edge>();
    adjacency.delete(v);
    for (const [w, { s, n }] of nv) {
      if (w === u) continue;
      const nw = adjacency.get(w) as Map<number, Edge>;
      nw.delete(v);
      let edge = nu.get(w);
      if (edge === undefined) {
        edge = { s: 0, n: 0 };
        nu.set(w, edge);
      }
      edge.s += s;
      edge.n += n;
      nw.set(u, edge);
      queue.push(-edge.s / edge.n, Math.min(u, w), Math.max(u, w));
    }
    for (const [w, { s, n }] of nu) queue.push(-s / n, Math.min(u, w), Math.max(u, w));
  }
  const data = new Int32Array(frags.data.length);
  for (let i = 0; i < data.length; i++) {
    const f = frags.data[i] as number;
    data[i] = f === 0 ? 0 : find(f);
  }
  return { shape: frags.shape, data, count: frags.count };
}
