/**
 * One entry point: validate a model package (folder, zip or memory) as bioimageio.spec would with
 * IO checks, plus optional consumer rules. Returns every finding; never throws for bad input.
 */

import { checkDeepImageJ } from './consumers/deepimagej.js';
import { checkIlastik } from './consumers/ilastik.js';
import { type Issue, issue } from './errors.js';
import { type FileSource, findRdfName } from './file-source.js';
import type { ModelDescr } from './model.js';
import { parseModelDescriptionYaml } from './parse.js';
import { type Consumer, makeReport, type ValidationReport } from './report.js';
import { checkFiles } from './semantic/file-checks.js';
import { staticChecks } from './semantic/static-checks.js';
import { checkTestTensors } from './semantic/test-tensors.js';

export interface ValidateOptions {
  /** Consumer rules to apply on top of the spec (default none). */
  readonly consumers?: readonly Consumer[];
  /** Check files, hashes and test tensors (default true), like perform_io_checks. */
  readonly ioChecks?: boolean;
  /** RDF name inside the source (default: found by bioimageio.spec's priority). */
  readonly rdfName?: string;
}

export interface ValidationResult {
  readonly report: ValidationReport;
  /** The description in 0.5 shape, when it passed the schema. */
  readonly descr: ModelDescr | undefined;
}

export async function validatePackage(
  source: FileSource,
  opts: ValidateOptions = {},
): Promise<ValidationResult> {
  const io = opts.ioChecks ?? true;
  const consumers = opts.consumers ?? [];
  const names = await source.list();
  const rdfName = opts.rdfName ?? findRdfName(names);
  const base = { source: source.label, rdfName };
  if (rdfName === undefined) {
    const report = makeReport(
      {
        ...base,
        formatVersion: undefined,
        checks: { schema: false, semantic: false, files: false, consumers: [] },
      },
      [
        issue(
          'file-missing',
          '',
          `no rdf.yaml (or bioimageio.yaml) in ${source.label}`,
          'Put rdf.yaml at the root of the folder or zip.',
        ),
      ],
    );
    return { report, descr: undefined };
  }
  const bytes = await source.read(rdfName);
  if (bytes === undefined) {
    const report = makeReport(
      {
        ...base,
        formatVersion: undefined,
        checks: { schema: false, semantic: false, files: false, consumers: [] },
      },
      [issue('file-missing', '', `${rdfName} is not in ${source.label}`, 'Check the path.')],
    );
    return { report, descr: undefined };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const report = makeReport(
      {
        ...base,
        formatVersion: undefined,
        checks: { schema: false, semantic: false, files: false, consumers: [] },
      },
      [issue('yaml', '', `${rdfName} is not UTF-8`, 'Save rdf.yaml as UTF-8.')],
    );
    return { report, descr: undefined };
  }
  const parsed = parseModelDescriptionYaml(text);
  const issues: Issue[] = [...parsed.issues];
  const descr = parsed.descr;
  let files: ReadonlyMap<string, Uint8Array> | undefined;
  if (descr !== undefined) {
    issues.push(...staticChecks(descr));
    if (io) {
      const fc = await checkFiles(descr, source);
      issues.push(...fc.issues, ...checkTestTensors(descr, fc.contents));
      files = fc.contents;
    }
    if (consumers.includes('ilastik')) issues.push(...checkIlastik(descr));
    if (consumers.includes('deepimagej'))
      issues.push(...checkDeepImageJ(descr, { rdfName, ...(files ? { files } : {}) }));
  }
  const report = makeReport(
    {
      ...base,
      formatVersion: parsed.sourceFormatVersion,
      checks: {
        schema: true,
        semantic: descr !== undefined,
        files: descr !== undefined && io,
        consumers: descr !== undefined ? consumers : [],
      },
    },
    issues,
  );
  return { report, descr };
}
