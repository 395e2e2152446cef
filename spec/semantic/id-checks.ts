/** Name characters; tensor, axis and channel ids; duplicate ids and batch axes. */

import { type AnyAxis, axisId } from '../axes.js';
import { type Issue, issue, pointer, warning } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { identifierProblem, lowerCaseProblem, NAME_CHARS } from './identifiers.js';
import { tensorsOf } from './located.js';

export function checkName(d: ModelDescr, out: Issue[]): void {
  if (!NAME_CHARS.test(d.name)) {
    const bad = [...new Set([...d.name].filter((c) => !NAME_CHARS.test(c)))].join('');
    out.push(
      issue(
        'name',
        '/name',
        `name contains characters that are not allowed: ${JSON.stringify(bad)}`,
        'Use only letters, digits, spaces and _ + - ( ).',
      ),
    );
  }
}

export function checkIds(d: ModelDescr, out: Issue[]): void {
  const seen = new Map<string, string>();
  for (const t of tensorsOf(d)) {
    const p = pointer(t.kind, t.index, 'id');
    const caseProb = lowerCaseProblem(t.id);
    if (caseProb) {
      out.push(
        warning(
          'id',
          p,
          `tensor id ${caseProb}`,
          'Use lower case: the spec requires it, though bioimageio.spec does not enforce it.',
        ),
      );
    }
    const prob = identifierProblem(t.id);
    if (prob)
      out.push(
        issue(
          'id',
          p,
          `tensor id ${prob}`,
          'Use a lower-case identifier such as raw or prediction (at most 32 characters).',
        ),
      );
    if (seen.has(t.id))
      out.push(
        issue(
          'tensor-ids',
          p,
          `duplicate tensor id '${t.id}' (also ${seen.get(t.id)})`,
          'Give every input and output a unique id.',
        ),
      );
    else seen.set(t.id, p);

    const axisIds = new Set<string>();
    let batches = 0;
    t.tensor.axes.forEach((a: AnyAxis, j: number) => {
      const ap = pointer(t.kind, t.index, 'axes', j);
      const id = axisId(a);
      const acase = lowerCaseProblem(id);
      if (acase) {
        out.push(
          warning(
            'id',
            `${ap}/id`,
            `axis id ${acase}`,
            'Use lower case (z, y, x): the spec requires it, though bioimageio.spec does not enforce it.',
          ),
        );
      }
      const aprob = identifierProblem(id);
      if (aprob)
        out.push(
          issue(
            'id',
            `${ap}/id`,
            `axis id ${aprob}`,
            'Use a lower-case identifier (at most 16 characters), e.g. z, y, x.',
          ),
        );
      if (axisIds.has(id))
        out.push(
          issue(
            'axes',
            ap,
            `duplicate axis id '${id}' in tensor '${t.id}'`,
            a.type === 'space' && a.id === undefined
              ? "Space axes default to id 'x': give each one an explicit id (z, y, x)."
              : 'Give every axis of a tensor a unique id.',
          ),
        );
      axisIds.add(id);
      if (a.type === 'batch') batches++;
      if (a.type === 'channel') {
        a.channel_names.forEach((c, k) => {
          const cp = identifierProblem(c);
          if (cp)
            out.push(
              issue(
                'id',
                `${ap}/channel_names/${k}`,
                `channel name ${cp}`,
                'Use identifiers such as membrane or aff_z.',
              ),
            );
        });
      }
    });
    if (batches > 1)
      out.push(
        issue(
          'axes',
          pointer(t.kind, t.index, 'axes'),
          `tensor '${t.id}' has ${batches} batch axes`,
          'Keep at most one batch axis per tensor.',
        ),
      );
  }
}
