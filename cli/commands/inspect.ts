/** `inspect`: I/O names, shapes, opset and metadata of an .onnx file or of a package's model. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  defaultOpset,
  ExportError,
  inspectOnnx,
  type OnnxInfo,
  parseRdfYaml,
  readZip,
} from '../../exporters/index.js';
import type { Io } from '../io.js';

interface Inspection {
  readonly file: string;
  readonly onnx: OnnxInfo & { readonly opset: number | undefined };
  readonly package?: {
    readonly name: unknown;
    readonly format_version: unknown;
    readonly entries: readonly string[];
    readonly weights: readonly string[];
    readonly inputs: unknown;
    readonly outputs: unknown;
  };
}

function tensorSummary(ts: unknown): unknown {
  if (!Array.isArray(ts)) return [];
  return ts.map(
    (t: {
      id?: string;
      axes?: { type: string; id?: string; size?: unknown; halo?: number; channel_names?: string[] }[];
    }) => ({
      id: t.id,
      axes: (t.axes ?? []).map((a) => ({
        type: a.type,
        ...(a.id ? { id: a.id } : {}),
        ...(a.size !== undefined ? { size: a.size } : {}),
        ...(a.halo !== undefined ? { halo: a.halo } : {}),
        ...(a.channel_names ? { channels: a.channel_names } : {}),
      })),
    }),
  );
}

export function inspect(path: string): Inspection {
  if (path.endsWith('.zip')) {
    const zip = readZip(path);
    const rdf = parseRdfYaml(new TextDecoder().decode(zip.get('rdf.yaml')), `${path}:rdf.yaml`);
    const weights = (rdf.weights ?? {}) as Record<string, { source?: string }>;
    const onnxSource = weights.onnx?.source;
    if (onnxSource === undefined) {
      throw new ExportError('OnnxInvalid', `${path} has no onnx weights to inspect`, {
        hint: 'package with `bioimage-export package`',
      });
    }
    const info = inspectOnnx(zip.get(onnxSource), `${path}:${onnxSource}`);
    return {
      file: path,
      onnx: { ...info, opset: defaultOpset(info) },
      package: {
        name: rdf.name,
        format_version: rdf.format_version,
        entries: zip.names,
        weights: Object.keys(weights),
        inputs: tensorSummary(rdf.inputs),
        outputs: tensorSummary(rdf.outputs),
      },
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new ExportError('InvalidArgument', `${path} does not exist or is not readable`, {
      hint: 'pass an .onnx file or a .zip package',
    });
  }
  const info = inspectOnnx(bytes, path);
  return { file: path, onnx: { ...info, opset: defaultOpset(info) } };
}

const shape = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

export function inspectCommand(io: Io): Command {
  return new Command('inspect')
    .description(
      'show the ONNX model of an .onnx file or a package: inputs, outputs, shapes, opset, metadata',
    )
    .argument('<file>', 'an .onnx file or a .zip package')
    .option('--json', 'print JSON')
    .action((path: string, opts: { json?: boolean }) => {
      const r = inspect(path);
      if (opts.json) {
        io.out(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const o = r.onnx;
      const lines = [
        `file      ${r.file}`,
        `opset     ${o.opset ?? '?'}${o.opsets.length > 1 ? ` (${o.opsets.map((x) => `${x.domain || 'ai.onnx'}:${x.version}`).join(', ')})` : ''}   IR ${o.irVersion}   producer ${o.producer || '?'}`,
        `graph     ${o.nodeCount} nodes, ${o.initializerCount} initializers`,
        ...o.inputs.map((t) => `input     ${t.name}  ${t.elemType}  ${shape(t.shape)}`),
        ...o.outputs.map((t) => `output    ${t.name}  ${t.elemType}  ${shape(t.shape)}`),
        ...Object.entries(o.metadata).map(([k, v]) => `metadata  ${k} = ${v}`),
      ];
      if (r.package) {
        lines.push(
          `package   ${String(r.package.name)} (format ${String(r.package.format_version)}), weights: ${r.package.weights.join(', ')}`,
          `entries   ${r.package.entries.join(', ')}`,
        );
      }
      io.out(`${lines.join('\n')}\n`);
    });
}
