/**
 * Selected edges → tracks: connected components of the selected edges (every vertex has degree
 * ≤ 2, so each is a path or a cycle), each as a polyline of candidate positions in nm, walked
 * from one end (a cycle from its lowest vertex, repeated at the end).
 */
import type { CandidateGraph, Point3 } from './candidate-graph.js';

export interface Track {
  readonly points: Point3[];
  readonly closed: boolean;
}

export function tracksFromEdges(graph: CandidateGraph, selected: readonly number[]): Track[] {
  const nb = new Map<number, number[]>();
  for (const e of selected) {
    const [a, b] = graph.edges[e] as [number, number];
    nb.set(a, [...(nb.get(a) ?? []), b]);
    nb.set(b, [...(nb.get(b) ?? []), a]);
  }
  const seen = new Set<number>();
  const walk = (start: number): number[] => {
    const path = [start];
    seen.add(start);
    let prev = -1;
    let at = start;
    for (;;) {
      const next = (nb.get(at) ?? []).find((w) => w !== prev && !seen.has(w));
      if (next === undefined) return path;
      path.push(next);
      seen.add(next);
      prev = at;
      at = next;
    }
  };
  const tracks: Track[] = [];
  const vertices = [...nb.keys()].sort((a, b) => a - b);
  for (const v of vertices)
    if (!seen.has(v) && (nb.get(v) as number[]).length === 1) tracks.push(open(walk(v)));
  for (const v of vertices) {
    if (seen.has(v)) continue;
    const path = walk(v); // only cycles are left
    tracks.push({ points: [...path, v].map((i) => graph.nm[i] as Point3), closed: true });
  }
  return tracks;

  function open(path: number[]): Track {
    return { points: path.map((i) => graph.nm[i] as Point3), closed: false };
  }
}
