/**
 * Candidate graph → selected edges by Micron's triplet ILP (originals §5.3 step 3), solved with
 * HiGHS (the `highs` wasm build) instead of Gurobi. Binary variables per vertex v: one per pair of
 * incident edges (a continuation through v), one per incident edge (v is a track end), and one
 * (v alone). Costs: ½·evidenceFactor·(ev(e1) + ev(e2)) + (angleFactor·θ)² + selectionCost with
 * θ = π − angle(e1, e2) at v; an end: evidenceFactor·ev(e) + 2·startPrior + selectionCost; alone:
 * 4·startPrior + selectionCost. Constraints: at most one variable per vertex; an edge is used at
 * one end exactly when it is used at the other. So every vertex has degree ≤ 2.
 */
import { createRequire } from 'node:module';
import { PipelineInputError, SolverFailedError } from '../errors.js';
import type { CandidateGraph, Point3 } from './candidate-graph.js';

export interface TrackCosts {
  readonly evidenceFactor?: number;
  readonly angleFactor?: number;
  readonly startPrior?: number;
  readonly selectionCost?: number;
  /** Seconds; the best solution found by then is used (Micron: 120). */
  readonly timeLimit?: number;
}

/** Micron's defaults. */
export const MICRON_COSTS = {
  evidenceFactor: 12,
  angleFactor: 14,
  startPrior: 180,
  selectionCost: -80,
  timeLimit: 120,
} as const;

/** Beyond this the LP text and HiGHS' wasm memory grow past what one process handles well. */
export const MAX_VARIABLES = 2_000_000;

interface Variable {
  readonly center: number;
  /** Edge indices (0, 1 or 2 of them). */
  readonly edges: readonly number[];
  readonly cost: number;
}

type Solve = (
  lp: string,
  options: Record<string, unknown>,
) => {
  Status: string;
  Columns: Record<string, { Primal: number }>;
};

// `highs` ships CJS typings for an ESM default export (docs: ts-stack.md §6): load it through require
let loaded: Promise<{ solve: Solve }> | undefined;
function highs(): Promise<{ solve: Solve }> {
  loaded ??= (createRequire(import.meta.url)('highs') as () => Promise<{ solve: Solve }>)();
  return loaded;
}

function angleAt(nm: readonly Point3[], v: number, a: number, b: number): number {
  const c = nm[v] as Point3;
  const p = (nm[a] as Point3).map((x, i) => x - (c[i] as number));
  const q = (nm[b] as Point3).map((x, i) => x - (c[i] as number));
  const dot = p.reduce((s, x, i) => s + x * (q[i] as number), 0);
  const cos = dot / (Math.hypot(...p) * Math.hypot(...q));
  return Math.acos(Math.min(1, Math.max(-1, cos)));
}

export function trackVariables(graph: CandidateGraph, costs: TrackCosts = {}): Variable[] {
  const {
    evidenceFactor: ef,
    angleFactor: af,
    startPrior: sp,
    selectionCost: sc,
  } = { ...MICRON_COSTS, ...costs };
  const incident: number[][] = graph.nm.map(() => []);
  graph.edges.forEach(([a, b], e) => {
    incident[a]?.push(e);
    incident[b]?.push(e);
  });
  const other = (e: number, v: number) => {
    const [a, b] = graph.edges[e] as [number, number];
    return a === v ? b : a;
  };
  const ev = (e: number) => graph.evidence[e] as number;
  const vars: Variable[] = [];
  incident.forEach((es, v) => {
    vars.push({ center: v, edges: [], cost: 4 * sp + sc });
    for (const e of es) vars.push({ center: v, edges: [e], cost: ef * ev(e) + 2 * sp + sc });
    for (let i = 0; i < es.length; i++)
      for (let j = i + 1; j < es.length; j++) {
        const e1 = es[i] as number;
        const e2 = es[j] as number;
        const theta = Math.PI - angleAt(graph.nm, v, other(e1, v), other(e2, v));
        vars.push({
          center: v,
          edges: [e1, e2],
          cost: 0.5 * ef * (ev(e1) + ev(e2)) + (af * theta) ** 2 + sc,
        });
      }
  });
  return vars;
}

const term = (c: number, name: string) => `${c < 0 ? '-' : '+'} ${Math.abs(c)} ${name}`;
const lines = (terms: string[]) => terms.map((t, i) => (i % 8 === 7 ? `${t}\n  ` : t)).join(' ');

/** The LP-format model (one binary `t<i>` per variable). */
export function trackModel(graph: CandidateGraph, vars: readonly Variable[]): string {
  const byCenter = new Map<number, number[]>();
  const atEnd = graph.edges.map(() => new Map<number, number[]>()); // edge → center → variables
  vars.forEach((v, i) => {
    byCenter.set(v.center, [...(byCenter.get(v.center) ?? []), i]);
    for (const e of v.edges) {
      const m = atEnd[e] as Map<number, number[]>;
      m.set(v.center, [...(m.get(v.center) ?? []), i]);
    }
  });
  const rows: string[] = [];
  for (const [v, is] of byCenter) rows.push(` v${v}: ${lines(is.map((i) => term(1, `t${i}`)))} <= 1`);
  graph.edges.forEach(([a, b], e) => {
    const m = atEnd[e] as Map<number, number[]>;
    const terms = [
      ...(m.get(a) ?? []).map((i) => term(1, `t${i}`)),
      ...(m.get(b) ?? []).map((i) => term(-1, `t${i}`)),
    ];
    rows.push(` e${e}: ${lines(terms)} = 0`);
  });
  const names = vars.map((_, i) => `t${i}`);
  return [
    'Minimize',
    ` obj: ${lines(vars.map((v, i) => term(v.cost, `t${i}`)))}`,
    'Subject To',
    ...rows,
    'Binary',
    ` ${lines(names)}`,
    'End',
    '',
  ].join('\n');
}

/** Indices of the selected edges. */
export async function solveTracks(graph: CandidateGraph, costs: TrackCosts = {}): Promise<number[]> {
  if (graph.edges.length === 0) return [];
  const vars = trackVariables(graph, costs);
  if (vars.length > MAX_VARIABLES) {
    throw new PipelineInputError(
      'track ILP',
      `would have ${vars.length.toLocaleString('en-US')} variables (more than ${MAX_VARIABLES.toLocaleString('en-US')})`,
      'lower the edge distance (--max-edge-nm) or process a smaller region: variables grow with the square of the edges per candidate',
    );
  }
  const solver = await highs();
  const result = solver.solve(trackModel(graph, vars), {
    output_flag: false,
    time_limit: costs.timeLimit ?? MICRON_COSTS.timeLimit,
    mip_rel_gap: 1e-6,
  });
  const usable =
    result.Status === 'Optimal' ||
    (result.Status === 'Time limit reached' && Object.keys(result.Columns).length > 0);
  if (!usable) throw new SolverFailedError(result.Status);
  const selected = new Set<number>();
  vars.forEach((v, i) => {
    if ((result.Columns[`t${i}`]?.Primal ?? 0) > 0.5) for (const e of v.edges) selected.add(e);
  });
  return [...selected].sort((a, b) => a - b);
}
