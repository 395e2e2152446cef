/**
 * Validation of a package (generated or given) through spec/: the bioimage.io 0.5 schema, semantic
 * and file checks (hashes, test tensors), and the consumer rules of the requested profiles, plus the
 * one packaging rule of ours spec does not know: Fiji packages ship sample TIFFs.
 */
import {
  type Consumer,
  checkDeepImageJ,
  type FileSource,
  type Issue,
  JDLL_MAX_ONNX_OPSET,
  type ValidationReport,
  validatePackage,
} from '../spec/index.js';
import { defaultOpset, inspectOnnx } from './onnx-inspect.js';
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

/** The opset inside model.onnx must be the declared one and one JDLL has an engine for. */
async function onnxOpsetIssues(rdf: unknown, source: FileSource): Promise<Issue[]> {
  const onnx = (rdf as { weights?: { onnx?: { source?: string; opset_version?: number } } }).weights?.onnx;
  if (onnx?.source === undefined) return [];
  const bytes = await source.read(onnx.source);
  if (bytes === undefined) return []; // reported by the file checks
  const path = '/weights/onnx/opset_version';
  const opset = defaultOpset(inspectOnnx(bytes, onnx.source));
  const out: Issue[] = [];
  if (opset !== onnx.opset_version) {
    out.push({
      code: 'deepimagej',
      severity: 'error',
      path,
      message: `${onnx.source} uses opset ${opset}, rdf.yaml declares ${onnx.opset_version}`,
      hint: 'declare the opset the file was exported with',
    });
  }
  if (opset !== undefined && opset > JDLL_MAX_ONNX_OPSET) {
    out.push({
      code: 'deepimagej',
      severity: 'error',
      path,
      message: `opset ${opset} > ${JDLL_MAX_ONNX_OPSET}: JDLL has no onnxruntime engine for it`,
      hint: 'export with opset 17 or 18',
    });
  }
  return out;
}

export async function validateWithProfiles(
  source: FileSource,
  profiles: readonly Profile[],
  rdfName?: string,
): Promise<ValidationReport> {
  // deepImageJ rules run here without file bytes: spec's own ONNX opset reader mis-skips
  // length-delimited fields (`pos += varint()` reads pos before the varint advances it), so the
  // opset comes from our inspector instead. Pass 'deepimagej' to spec once that is fixed.
  const consumers = profiles.map((p) => CONSUMER_OF[p]).filter((c) => c !== 'deepimagej');
  const { report, descr } = await validatePackage(source, { consumers, ...(rdfName ? { rdfName } : {}) });
  if (!profiles.includes('fiji') || descr === undefined) return report;
  const names = await source.list();
  const extra = [
    ...checkDeepImageJ(descr, { rdfName: report.rdfName ?? (names.includes('rdf.yaml') ? 'rdf.yaml' : '') }),
    ...(await onnxOpsetIssues(descr, source)),
    ...sampleTiffIssues(descr),
  ];
  const errors = [...report.errors, ...extra.filter((i) => i.severity === 'error')];
  const warnings = [...report.warnings, ...extra.filter((i) => i.severity === 'warning')];
  return {
    ...report,
    ok: errors.length === 0,
    errors,
    warnings,
    checks: { ...report.checks, consumers: [...report.checks.consumers, 'deepimagej'] },
  };
}
