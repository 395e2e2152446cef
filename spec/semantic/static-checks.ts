/**
 * Checks bioimageio.spec makes in Python validators (not in its JSON schema) that need no files:
 * ids, name, axes and size references, halos, data per channel, processing kwargs, weights graph,
 * licence, and the FAIR warnings.
 */

import type { Issue } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { checkAxisReferences } from './axis-checks.js';
import { checkData } from './data-checks.js';
import { checkIds, checkName } from './id-checks.js';
import { checkMetadata, checkWeights } from './metadata-checks.js';
import { checkProcessing } from './processing-checks.js';

/** Every static finding (errors and warnings) for a schema-valid description. */
export function staticChecks(d: ModelDescr): Issue[] {
  const out: Issue[] = [];
  checkName(d, out);
  checkIds(d, out);
  checkAxisReferences(d, out);
  checkData(d, out);
  checkProcessing(d, out);
  checkWeights(d, out);
  checkMetadata(d, out);
  return out;
}
