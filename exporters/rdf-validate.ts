/**
 * Validation of a package (generated or given) through spec/: the bioimage.io 0.5 schema, semantic
 * and file checks (hashes, test tensors), and the consumer rules of the requested profiles, plus the
 * one packaging rule of ours spec does not know: Fiji packages ship sample TIFFs.
 */
import {
  type Consumer,
  type FileSource,
  type Issue,
  type ValidationReport,
  validatePackage,
} from '../spec/index.js';
import type { Profile } from './profiles.js';

export const CONSUMER_OF: Record<Profile, Consumer> = { ilastik: 'ilastik', fiji: 'deepimagej' };

function sampleTiffIssues(rdf: unknown): Issue[] {
  const r = rdf as {
    inputs?: { sample_tensor?: { source?: string } }[];
    outputs?: { sample_tensor?: { source?: string } }[];
  };
  const out: Issue[] = [];
  for (const [kind, want] of [
    ['inputs', 'sample_input.tif'],
    ['outputs', 'sample_output.tif'],
  ] as const) {
    if (r[kind]?.[0]?.sample_tensor?.source !== want) {
      out.push({
        code: 'deepimagej',
        severity: 'error',
        path: `/${kind}/0/sample_tensor`,
        message: `Fiji packages show ${want} in deepImageJ; it is not the sample_tensor of the first ${kind.slice(0, -1)}`,
        hint: 'package with `bioimage-export package --for fiji`, which writes the sample TIFFs',
      });
    }
  }
  return out;
}

export async function validateWithProfiles(
  source: FileSource,
  profiles: readonly Profile[],
  rdfName?: string,
): Promise<ValidationReport> {
  const consumers = profiles.map((p) => CONSUMER_OF[p]);
  const { report, descr } = await validatePackage(source, { consumers, ...(rdfName ? { rdfName } : {}) });
  if (!profiles.includes('fiji') || descr === undefined) return report;
  const extra = sampleTiffIssues(descr);
  if (extra.length === 0) return report;
  return { ...report, ok: false, errors: [...report.errors, ...extra] };
}
