/** Every file a description references, with the JSON pointer of its `source`. */

import { pointer } from '../errors.js';
import type { ModelDescr } from '../model.js';
import type { FileDescr } from '../tensors.js';
import { presentWeights } from '../weights.js';

export type FileRole =
  | 'documentation'
  | 'cover'
  | 'attachment'
  | 'test_tensor'
  | 'sample_tensor'
  | 'weights'
  | 'architecture'
  | 'dependencies'
  | 'external_data';

export interface FileRef {
  readonly role: FileRole;
  readonly source: string;
  readonly sha256: string | null;
  /** Pointer to the `source` string (or to the plain string for documentation/covers). */
  readonly path: string;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

export function fileRefs(d: ModelDescr): FileRef[] {
  const refs: FileRef[] = [];
  const add = (role: FileRole, f: FileDescr | null | undefined, ...at: (string | number)[]) => {
    if (f) refs.push({ role, source: f.source, sha256: f.sha256 ?? null, path: pointer(...at, 'source') });
  };
  if (typeof d.documentation === 'string')
    refs.push({ role: 'documentation', source: d.documentation, sha256: null, path: '/documentation' });
  (d.covers ?? []).forEach((c, i) => {
    refs.push({ role: 'cover', source: c, sha256: null, path: pointer('covers', i) });
  });
  (d.attachments ?? []).forEach((a, i) => {
    add('attachment', a, 'attachments', i);
  });
  d.inputs.forEach((t, i) => {
    add('test_tensor', t.test_tensor, 'inputs', i, 'test_tensor');
    add('sample_tensor', t.sample_tensor, 'inputs', i, 'sample_tensor');
  });
  d.outputs.forEach((t, i) => {
    add('test_tensor', t.test_tensor, 'outputs', i, 'test_tensor');
    add('sample_tensor', t.sample_tensor, 'outputs', i, 'sample_tensor');
  });
  for (const [f, w] of presentWeights(d.weights)) {
    add('weights', w, 'weights', f);
    if (f === 'pytorch_state_dict' && 'architecture' in w && 'source' in w.architecture) {
      add('architecture', w.architecture, 'weights', f, 'architecture');
    }
    if ('dependencies' in w) add('dependencies', w.dependencies, 'weights', f, 'dependencies');
    if ('external_data' in w) add('external_data', w.external_data, 'weights', f, 'external_data');
  }
  return refs;
}
