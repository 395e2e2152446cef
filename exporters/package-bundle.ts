/**
 * Bundle folder → dist/<id>.zip, in the order that makes a bad zip impossible: check the bundle's
 * hashes, reproduce its test output with onnxruntime, build every generated file, validate the RDF
 * (schema, files, test tensors, consumer rules), and only then write the zip.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FileSource, ValidationReport } from '../spec/index.js';
import { type Bundle, readBundle } from './bundle-read.js';
import { renderCover } from './cover-png.js';
import { ExportError } from './errors.js';
import { encodeNpy } from './npy.js';
import { planPackage, planPath } from './package-plan.js';
import { PROFILES, type Profile } from './profiles.js';
import { buildRdf } from './rdf-build.js';
import type { ModelRdf } from './rdf-types.js';
import { validateWithProfiles } from './rdf-validate.js';
import { rdfToYaml } from './rdf-yaml.js';
import { buildReadme } from './readme-build.js';
import { type ReproduceFiles, type Reproduction, readTestTensors, reproduceTestOutput } from './reproduce.js';
import { tensorToTiff } from './sample-tiff.js';
import { sha256Bytes, sha256File } from './sha256-file.js';
import { padCentred } from './tensor-ops.js';
import { writeZip, type ZipEntry } from './zip-write.js';

export interface PackageOptions {
  readonly outDir: string;
  /** Consumers to satisfy; undefined = every consumer the model can serve (ilastik needs dense outputs). */
  readonly profiles?: readonly Profile[];
  readonly onProgress?: (step: string) => void;
  /** zip64 records for every entry even when the package is small (tests of the zip64 path). */
  readonly forceZip64?: boolean;
}

export interface PackageResult {
  readonly bundle: Bundle;
  readonly zipPath: string;
  readonly rdf: ModelRdf;
  readonly reproduction: Reproduction;
  readonly profiles: readonly Profile[];
  readonly report: ValidationReport;
  readonly notes: readonly string[];
  readonly entries: Readonly<Record<string, string>>; // zip entry → sha256
}

const TEXT = new Set(['rdf.yaml', 'README.md', 'architecture.py']);
const WEIGHTS = /\.(onnx|pt|pth|bin|data)$/;

/**
 * How an entry goes into the zip: text deflated; weights stored (hundreds of MB to GBs of nearly
 * random floats: deflate would cost seconds per GB for a few per cent); everything else (test and
 * sample tensors, the cover) deflated when small and compressible ('auto': ≤ 64 MiB and ≥ 10 %
 * smaller), e.g. the padded test output, which is mostly zero border.
 */
export function compressionOf(name: string): boolean | 'auto' {
  if (TEXT.has(name)) return true;
  if (WEIGHTS.test(name)) return false;
  return 'auto';
}

/**
 * Every file bundle.yaml lists (main artefacts and zoo variant), or the `only` ones, must still have
 * its sha256. Returns the hashes computed (streamed, never cached).
 */
export async function verifyBundleHashes(
  b: Bundle,
  progress: (s: string) => void,
  only?: readonly string[],
): Promise<Record<string, string>> {
  const bad: string[] = [];
  const computed: Record<string, string> = {};
  for (const f of Object.keys(b.files).sort()) {
    if (only !== undefined && !only.includes(f)) continue;
    progress(`hashing ${f} (${(statSync(join(b.dir, f)).size / 2 ** 20).toFixed(1)} MiB)`);
    const sha = await sha256File(join(b.dir, f));
    computed[f] = sha;
    if (sha !== b.files[f])
      bad.push(`${f}: sha256 ${sha.slice(0, 12)}… ≠ bundle.yaml ${String(b.files[f]).slice(0, 12)}…`);
  }
  if (bad.length > 0) {
    throw new ExportError('BundleInvalid', `${b.id}: files changed after export (${bad.join('; ')})`, {
      hint: 're-export the bundle with `emzoo export`; never edit bundle files by hand',
      details: bad,
    });
  }
  return computed;
}

/**
 * Bundle files hashed before anything else: all but the .pt weights (ONNX graphs for the reproduce
 * checks, test tensors, architecture.py). The shipped .pt weights are only copied into the zip, so
 * they are checked against bundle.yaml while they stream into it (each read once); a .pt file the
 * package does not ship (the valid form's TorchScript beside a zoo variant) is not read.
 */
function checkedFirst(b: Bundle): string[] {
  return Object.keys(b.files).filter((f) => !/\.(pt|pth)$/.test(f));
}

export async function packageBundle(bundleDir: string, opts: PackageOptions): Promise<PackageResult> {
  const progress = opts.onProgress ?? (() => {});
  const read = readBundle(bundleDir);
  const plan = planPackage(read);
  const b = plan.bundle; // as the RDF describes it: the zoo variant's facts when there is one
  const notes: string[] = [];
  let profiles: Profile[];
  if (opts.profiles !== undefined) profiles = [...opts.profiles];
  else {
    profiles = [...PROFILES];
    if (b.output.kind === 'classes') {
      profiles = profiles.filter((p) => p !== 'ilastik');
      notes.push(
        'ilastik left out: it needs dense outputs with ≥ 2 space axes, this model outputs one value per class',
      );
    }
  }
  const fiji = profiles.includes('fiji');

  const verified = await verifyBundleHashes(read, progress, checkedFirst(read));
  const generated = new Map<string, Uint8Array>();
  const main = readTestTensors(read);
  let files: ReproduceFiles;
  if (plan.padTestOutput) {
    // the zoo test output is test_output.npy centred in a zero border of the input's size: built
    // here rather than stored (it is mostly border: 9-32 MB on the small presets)
    const expected = padCentred(main.output, b.output.test_tensor.shape);
    generated.set(plan.entries.testOutput, encodeNpy(expected));
    files = {
      onnx: plan.files.get(plan.entries.onnx) as string,
      testOutput: 'test_output.npy padded',
      expected,
    };
  } else {
    files = {
      onnx: plan.files.get(plan.entries.onnx) as string,
      testOutput: plan.files.get(plan.entries.testOutput) as string,
    };
  }
  progress(`reproducing ${files.testOutput} with onnxruntime (${files.onnx})`);
  const reproduction = await reproduceTestOutput(read, files);
  if (plan.validOnnx !== undefined) {
    progress('reproducing test_output.npy with the valid-output model.onnx (shipped for emzoo predict)');
    await reproduceTestOutput(read);
  }

  progress('rendering cover, README and sample tensors');
  const input = main.input;
  const output = files.expected ?? readTestTensors(read, files.testOutput).output;
  // the cover shows the valid output: a padded one would add a black frame of invalid border
  const coverOutput = plan.outputForm === 'padded' ? main.output : output;
  generated.set('cover.png', renderCover(input, coverOutput, b.output.channel_names));
  generated.set('README.md', new TextEncoder().encode(buildReadme(b, reproduction, profiles)));
  if (fiji) {
    generated.set('sample_input.tif', tensorToTiff(input, b.input.voxel_size_nm));
    generated.set('sample_output.tif', tensorToTiff(output, b.input.voxel_size_nm));
  }
  const hashes: Record<string, string> = { ...b.files };
  for (const [name, bytes] of generated) hashes[name] = sha256Bytes(bytes);

  const rdf = buildRdf({
    bundle: b,
    hashes,
    reproduction,
    profiles,
    entries: plan.entries,
    ...(plan.validOnnx !== undefined ? { validOnnx: plan.validOnnx } : {}),
  });
  const rdfText = rdfToYaml(rdf, b.id);
  progress('validating rdf.yaml');
  // The package as it will be zipped: generated files from memory, bundle files from disk.
  const rdfBytes = new TextEncoder().encode(rdfText);
  const names = ['rdf.yaml', ...generated.keys(), ...plan.files.keys()];
  const source: FileSource = {
    label: `${b.id}.zip (to be written)`,
    list: async () => names,
    // weights: the hash streamed above, or (.pt checked while zipping) bundle.yaml's, which the
    // zip writer enforces on the bytes it writes
    sha256: async (n) => {
      const file = plan.files.get(n);
      return file === undefined ? undefined : (verified[file] ?? read.files[file]);
    },
    read: async (n) =>
      n === 'rdf.yaml'
        ? rdfBytes
        : (generated.get(n) ??
          (plan.files.has(n) ? new Uint8Array(readFileSync(planPath(plan, n))) : undefined)),
  };
  const report = await validateWithProfiles(source, profiles);
  const errors = report.errors;
  if (errors.length > 0) {
    const consumer = errors.every((f) => f.code === 'ilastik' || f.code === 'deepimagej');
    const details = errors.map((f) => `${f.path || '/'}: ${f.message}`);
    throw new ExportError(
      consumer ? 'ConsumerRuleFailed' : 'RdfInvalid',
      `${b.id}: the generated rdf.yaml ${consumer ? 'breaks consumer rules' : 'is invalid'}: ${details.join('; ')}; no zip written`,
      {
        hint: consumer
          ? `package only for the consumers this model can serve (--for ${PROFILES.filter((p) => !errors.some((f) => f.code === (p === 'ilastik' ? 'ilastik' : 'deepimagej'))).join(',') || '...'})`
          : 'fix bundle.yaml (the RDF is derived from it) and package again',
        details,
      },
    );
  }

  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const zipPath = join(outDir, `${b.id}.zip`);
  const entries: ZipEntry[] = [
    { name: 'rdf.yaml', bytes: rdfBytes, compress: true },
    ...[...generated].map(([name, bytes]) => ({
      name,
      bytes,
      compress: compressionOf(name),
      expectedSha256: hashes[name] as string,
    })),
    ...[...plan.files].map(([name, file]) => ({
      name,
      label: file,
      path: planPath(plan, name),
      compress: compressionOf(name),
      expectedSha256: hashes[name] as string,
    })),
  ].sort((x, y) => (x.name === 'rdf.yaml' ? -1 : y.name === 'rdf.yaml' ? 1 : x.name < y.name ? -1 : 1));
  progress(`writing ${zipPath}`);
  // zip64 records are written where an entry or the archive passes 4 GiB (paper-size nets)
  const written = writeZip(zipPath, entries, b.created, { forceZip64: opts.forceZip64 === true });
  const shas = Object.fromEntries(Object.entries(written).map(([n, w]) => [n, w.sha256]));
  return { bundle: read, zipPath, rdf, reproduction, profiles, report, notes, entries: shas };
}
