/** `validate`: schema, semantics, files and consumer rules of a zip, a folder or an rdf.yaml, via spec/. */
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Command } from 'commander';
import {
  ExportError,
  PROFILES,
  type Profile,
  parseProfiles,
  parseRdfYaml,
  readZip,
  validateWithProfiles,
} from '../../exporters/index.js';
import { type FileSource, folderSource, formatReportText } from '../../spec/index.js';
import type { Io } from '../io.js';

function openSource(path: string): { source: FileSource; rdfName: string } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new ExportError('InvalidArgument', `${path} does not exist`, {
      hint: 'pass a .zip, a package folder or an rdf.yaml',
    });
  }
  if (st.isDirectory()) return { source: folderSource(path), rdfName: 'rdf.yaml' };
  if (path.endsWith('.yaml') || path.endsWith('.yml'))
    return { source: folderSource(dirname(path)), rdfName: basename(path) };
  return { source: readZip(path).source, rdfName: 'rdf.yaml' }; // ZipInvalid when unreadable or without rdf.yaml
}

/** Profiles to check: --for, else what the package says it was made for, else all. */
async function profilesFor(
  source: FileSource,
  rdfName: string,
  flag: string | undefined,
): Promise<Profile[]> {
  const explicit = parseProfiles(flag);
  if (explicit) return explicit;
  const bytes = await source.read(rdfName);
  if (bytes === undefined) return [...PROFILES];
  try {
    const rdf = parseRdfYaml(new TextDecoder().decode(bytes), rdfName);
    const recorded = (rdf.config as { emzoo?: { profiles?: unknown } } | undefined)?.emzoo?.profiles;
    if (Array.isArray(recorded))
      return recorded.filter((p): p is Profile => (PROFILES as readonly unknown[]).includes(p));
  } catch {
    // the validator reports the YAML problem
  }
  return [...PROFILES];
}

export function validateCommand(io: Io): Command {
  return new Command('validate')
    .description(
      'validate a package: bioimage.io schema, semantic and file checks, consumer rules (ilastik, fiji)',
    )
    .argument('<package>', 'a .zip, a package folder, or an rdf.yaml')
    .option(
      '--for <profiles>',
      'consumer rules to apply: ilastik,fiji (default: the profiles recorded in the package)',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ bioimage-export validate dist/lsd-small-mtlsd.zip
  $ bioimage-export validate unpacked/rdf.yaml --for fiji --json`,
    )
    .action(async (path: string, opts: { for?: string; json?: boolean }) => {
      const { source, rdfName } = openSource(path);
      if (!(await source.list()).includes(rdfName)) {
        throw new ExportError('InvalidArgument', `${path} has no ${rdfName}`, {
          hint: 'pass a .zip, a package folder or an rdf.yaml',
        });
      }
      const profiles = await profilesFor(source, rdfName, opts.for);
      const report = await validateWithProfiles(source, profiles, rdfName);
      io.out(opts.json ? `${JSON.stringify({ ...report, profiles }, null, 2)}\n` : formatReportText(report));
      if (!report.ok) {
        const consumer = report.errors.every((e) => e.code === 'ilastik' || e.code === 'deepimagej');
        throw new ExportError(
          consumer ? 'ConsumerRuleFailed' : 'RdfInvalid',
          `${path}: ${report.errors.length} error(s)${consumer ? ' against consumer rules' : ''}`,
          {
            hint: consumer
              ? `check only the consumers it targets (--for ${PROFILES.join('|')})`
              : 'fix the errors listed above',
          },
        );
      }
    });
}
