/** Files: present in the source, sha256 as declared, suffixes, documentation content. */

import { type Issue, issue, warning } from '../errors.js';
import { type FileSource, normalizeName } from '../file-source.js';
import type { ModelDescr } from '../model.js';
import { type FileRef, fileRefs, isUrl } from './file-refs.js';

const COVER_SUFFIXES = ['.gif', '.jpeg', '.jpg', '.png', '.svg'];

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Buffer.from(digest).toString('hex');
}

function suffixProblem(ref: FileRef): string | undefined {
  const name = ref.source.toLowerCase();
  switch (ref.role) {
    case 'documentation':
      return ref.source.endsWith('.md') ? undefined : 'documentation must be a .md file';
    case 'cover':
      return COVER_SUFFIXES.some((s) => name.endsWith(s))
        ? undefined
        : `cover must be one of ${COVER_SUFFIXES.join(' ')}`;
    case 'dependencies':
      return /\.(yaml|yml)$/.test(ref.source) ? undefined : 'dependencies must be a conda .yaml/.yml file';
    case 'external_data':
      return ref.source.endsWith('.data') ? undefined : 'external_data must be a .data file';
    case 'sample_tensor':
      return name.endsWith('.npy')
        ? 'sample_tensor must be an image format (.tif, .png, …), not .npy'
        : undefined;
    default:
      return undefined;
  }
}

function sha256Issue(ref: FileRef, actual: string): Issue {
  return issue(
    'sha256',
    ref.path.replace(/\/source$/, '/sha256'),
    `sha256 of '${ref.source}' is ${actual}, the description says ${ref.sha256}`,
    'Recompute the hash from the final file bytes (e.g. sha256sum).',
  );
}

export interface FileCheckResult {
  readonly issues: Issue[];
  /** Bytes of every local file that was found, by normalised name. */
  readonly contents: ReadonlyMap<string, Uint8Array>;
}

export async function checkFiles(d: ModelDescr, source: FileSource): Promise<FileCheckResult> {
  const issues: Issue[] = [];
  const contents = new Map<string, Uint8Array>();
  for (const ref of fileRefs(d)) {
    const suffix = suffixProblem(ref);
    if (suffix)
      issues.push(
        issue(
          'file-suffix',
          ref.path,
          `${suffix}: '${ref.source}'`,
          'Rename the file (and its reference) to a supported suffix.',
        ),
      );
    if (isUrl(ref.source)) {
      issues.push(
        warning(
          'not-checked',
          ref.path,
          `remote file ${ref.source} was not checked (no network)`,
          'Ship the file inside the package to have it checked.',
        ),
      );
      continue;
    }
    const name = normalizeName(ref.source);
    // a hash the source already knows is not recomputed; weights other than ONNX (whose opset the
    // deepImageJ rule reads) and attachments are then not read at all
    const known = source.sha256 !== undefined ? await source.sha256(name) : undefined;
    if (known !== undefined && ref.sha256 !== null && known !== ref.sha256.toLowerCase())
      issues.push(sha256Issue(ref, known));
    const hashOnly =
      (ref.role === 'weights' && ref.path !== '/weights/onnx/source') || ref.role === 'attachment';
    if (known !== undefined && hashOnly) continue;
    let bytes = contents.get(name);
    if (bytes === undefined) {
      bytes = await source.read(name);
      if (bytes === undefined) {
        issues.push(
          issue(
            'file-missing',
            ref.path,
            `${ref.role} file '${ref.source}' is not in ${source.label}`,
            'Add the file next to rdf.yaml (flat, at the zip root) or fix the path.',
          ),
        );
        continue;
      }
      contents.set(name, bytes);
    }
    if (ref.sha256 !== null && known === undefined) {
      const actual = await sha256Hex(bytes);
      if (actual !== ref.sha256.toLowerCase()) issues.push(sha256Issue(ref, actual));
    }
    if (ref.role === 'documentation') {
      let text: string | undefined;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        issues.push(
          issue(
            'documentation',
            ref.path,
            `documentation '${ref.source}' is not UTF-8`,
            'Save the README as UTF-8.',
          ),
        );
      }
      if (text !== undefined && !/#.*[vV]alidation/.test(text)) {
        issues.push(
          warning(
            'documentation',
            ref.path,
            `no '# Validation' (sub)section in '${ref.source}'`,
            'Add a "# Validation" heading describing how the model was validated.',
          ),
        );
      }
    }
    if (ref.role === 'sample_tensor' && !/\.(tiff?|png)$/i.test(ref.source)) {
      issues.push(
        warning(
          'not-checked',
          ref.path,
          `sample tensor '${ref.source}' was checked for presence and sha256 only (only .tif and .png are decoded here)`,
          'Make sure its rank fits the axes (bioimageio.spec decodes it with imageio).',
        ),
      );
    }
  }
  return { issues, contents };
}
