/** Weights graph, licence, citations, author names and the FAIR/tag warnings. */

import { type Issue, issue, pointer, warning } from '../errors.js';
import type { ModelDescr } from '../model.js';
import spdx from '../schemas/generated/spdx-licenses.json' with { type: 'json' };
import tagCategories from '../schemas/generated/tag-categories.json' with { type: 'json' };
import { presentWeights } from '../weights.js';
import { tensorsOf } from './located.js';

const SPDX_IDS: ReadonlySet<string> = new Set(spdx.ids);
const SPDX_DEPRECATED: ReadonlySet<string> = new Set(spdx.deprecated);

export function checkWeights(d: ModelDescr, out: Issue[]): void {
  const present = presentWeights(d.weights);
  if (present.length === 0) {
    out.push(
      issue(
        'weights',
        '/weights',
        'no weights entry',
        'Add at least one weights format (e.g. onnx, torchscript).',
      ),
    );
    return;
  }
  const formats = new Set(present.map(([f]) => f));
  let roots = 0;
  for (const [f, w] of present) {
    if (w.parent === undefined || w.parent === null) roots++;
    else if (w.parent === f)
      out.push(
        issue(
          'weights',
          pointer('weights', f, 'parent'),
          `weights.${f} is its own parent`,
          'Name the format these weights were converted from, or drop parent.',
        ),
      );
    else if (!formats.has(w.parent))
      out.push(
        issue(
          'weights',
          pointer('weights', f, 'parent'),
          `weights.${f}.parent '${w.parent}' is not a listed weights format`,
          `Use one of: ${[...formats].join(', ')}.`,
        ),
      );
  }
  if (roots !== 1)
    out.push(
      warning(
        'weights',
        '/weights',
        `${roots} weights entries have no parent; exactly one should`,
        'Mark converted formats with parent: <original format>.',
      ),
    );
  if (d.parent && d.id !== undefined && d.parent.id === d.id)
    out.push(
      issue('id', '/parent/id', 'the model names itself as parent', 'Remove parent or name another model.'),
    );
}

export function checkMetadata(d: ModelDescr, out: Issue[]): void {
  if (d.name.length > 64)
    out.push(
      warning(
        'name',
        '/name',
        `name is ${d.name.length} characters (over 64)`,
        'Shorten the name to 64 characters.',
      ),
    );
  (d.authors ?? []).forEach((a, i) => {
    if (/[/\\]/.test(a.name))
      out.push(
        issue(
          'fair',
          pointer('authors', i, 'name'),
          `author name '${a.name}' contains a slash`,
          'Remove / and \\ from author names.',
        ),
      );
  });
  (d.packaged_by ?? []).forEach((a, i) => {
    if (/[/\\]/.test(a.name))
      out.push(
        issue(
          'fair',
          pointer('packaged_by', i, 'name'),
          `name '${a.name}' contains a slash`,
          'Remove / and \\ from names.',
        ),
      );
  });
  (d.cite ?? []).forEach((c, i) => {
    if (!c.doi && !c.url)
      out.push(
        issue(
          'fair',
          pointer('cite', i),
          'cite entry has neither doi nor url',
          'Add a doi (10.xxxx/…) or a url.',
        ),
      );
  });
  if (typeof d.license === 'string') {
    if (SPDX_DEPRECATED.has(d.license))
      out.push(
        warning(
          'license',
          '/license',
          `licence '${d.license}' is a deprecated SPDX id`,
          'Use the current SPDX id (e.g. GPL-3.0-only instead of GPL-3.0).',
        ),
      );
    else if (!SPDX_IDS.has(d.license))
      out.push(
        issue(
          'license',
          '/license',
          `'${d.license}' is not an SPDX licence id`,
          'Use an id from https://spdx.org/licenses/ such as MIT, BSD-3-Clause or CC-BY-4.0.',
        ),
      );
  }

  const fair = (path: string, field: string, empty: boolean) => {
    if (empty)
      out.push(
        warning(
          'fair',
          path,
          `${field} is empty`,
          `Fill ${field} (FAIR metadata; bioimage.io lists it as an alert).`,
        ),
      );
  };
  fair('/description', 'description', !d.description);
  fair('/authors', 'authors', !d.authors?.length);
  fair('/cite', 'cite', !d.cite?.length);
  fair('/license', 'license', !d.license);
  fair('/documentation', 'documentation', !d.documentation);
  fair('/tags', 'tags', !d.tags?.length);
  for (const t of tensorsOf(d)) {
    fair(pointer(t.kind, t.index, 'test_tensor'), `${t.kind}[${t.id}].test_tensor`, !t.tensor.test_tensor);
    fair(
      pointer(t.kind, t.index, 'sample_tensor'),
      `${t.kind}[${t.id}].sample_tensor`,
      !t.tensor.sample_tensor,
    );
  }
  if (!d.maintainers?.length && !(d.authors ?? []).some((a) => a.github_user)) {
    out.push(
      warning(
        'fair',
        '/maintainers',
        'no maintainer and no author with github_user',
        'Add github_user to an author or list maintainers.',
      ),
    );
  }
  const categories = (tagCategories as Record<string, Record<string, string[]>>).model ?? {};
  const tags = new Set(d.tags ?? []);
  const missing = Object.entries(categories)
    .filter(([, entries]) => !entries.some((e) => tags.has(e)))
    .map(([cat]) => cat);
  if (missing.length > 0)
    out.push(
      warning(
        'tags',
        '/tags',
        `no tag from the bioimage.io categories: ${missing.join(', ')}`,
        `Add tags such as ${missing.map((c) => categories[c]?.[0]).join(', ')}.`,
      ),
    );
}
