/**
 * One-to-one matching of predicted synaptic partner pairs to ground truth within a distance, and
 * precision / recall / F1, as emzoo.evaluate.matching: a prediction may match a ground-truth pair
 * when both its post- and pre-synaptic locations are within `maxDistance` nm; the assignment
 * minimises Σ (d_post + d_pre − bonus) over allowed pairs, bonus = 4·maxDistance + 1.
 */
import { linearSumAssignment } from './linear-assignment.js';

export interface PartnerPair {
  readonly post: readonly number[];
  readonly pre: readonly number[];
}

export interface Prf {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** An empty side counts as perfect (nothing to find / nothing wrong). */
export function prf(tp: number, fp: number, fn: number): Prf {
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

const dist = (a: readonly number[], b: readonly number[]) =>
  Math.hypot(
    (a[0] as number) - (b[0] as number),
    (a[1] as number) - (b[1] as number),
    (a[2] as number) - (b[2] as number),
  );

/** Matched [prediction, ground truth] index pairs. */
export function matchPairs(
  predicted: readonly PartnerPair[],
  truth: readonly PartnerPair[],
  maxDistance: number,
): [number, number][] {
  if (predicted.length === 0 || truth.length === 0) return [];
  const bonus = 4 * maxDistance + 1;
  const allowed = predicted.map((p) =>
    truth.map((t) => {
      const dPost = dist(p.post, t.post);
      const dPre = dist(p.pre, t.pre);
      return dPost <= maxDistance && dPre <= maxDistance ? dPost + dPre - bonus : null;
    }),
  );
  const cost = allowed.map((row) => row.map((c) => c ?? 0));
  return linearSumAssignment(cost).filter(([r, c]) => allowed[r]?.[c] !== null);
}

export interface MatchScores extends Prf {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly matches: [number, number][];
}

export function scorePartners(
  predicted: readonly PartnerPair[],
  truth: readonly PartnerPair[],
  maxDistance: number,
): MatchScores {
  const matches = matchPairs(predicted, truth, maxDistance);
  const tp = matches.length;
  const fp = predicted.length - tp;
  const fn = truth.length - tp;
  return { ...prf(tp, fp, fn), tp, fp, fn, matches };
}
