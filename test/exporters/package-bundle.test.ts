import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, unzipSync } from 'fflate';
import * as yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { isExportError, packageBundle, readZip } from '../../exporters/index.js';
import { parseNpy } from '../../exporters/npy.js';
import { copyBundle, ROOT, realBundle, tempDir, tinyBundle, withStoredZooOutput } from './bundles.js';
import { centralDirectory } from './zip-entries.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents, probed field by field
type Yaml = any;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let bundleDir: string;
let bundle: Record<string, Yaml>;
let zipBytes: Uint8Array;
let entries: Record<string, Uint8Array>;
let rdf: Record<string, Yaml>;

beforeAll(async () => {
  bundleDir = realBundle();
  bundle = yaml.load(readFileSync(join(bundleDir, 'bundle.yaml'), 'utf8'), {
    schema: yaml.CORE_SCHEMA,
  }) as Record<string, Yaml>;
  const r = await packageBundle(bundleDir, { outDir: tempDir() });
  zipBytes = new Uint8Array(readFileSync(r.zipPath));
  entries = unzipSync(zipBytes);
  rdf = yaml.load(new TextDecoder().decode(entries['rdf.yaml']), { schema: yaml.CORE_SCHEMA }) as Record<
    string,
    Yaml
  >;
}, 180_000);

describe('package: zip contents', () => {
  it('is flat, rdf.yaml first, with every referenced file', () => {
    const names = centralDirectory(zipBytes).map((e) => e.name);
    expect(names[0]).toBe('rdf.yaml');
    // the bundle has a zoo variant: padded weights and test output, plus the valid model.onnx
    expect([...names].sort()).toEqual(
      [
        'README.md',
        'architecture.py',
        'cover.png',
        'model.onnx',
        'model_padded.onnx',
        'model_padded.torchscript.pt',
        'rdf.yaml',
        'sample_input.tif',
        'sample_output.tif',
        'state_dict.pt',
        'test_input.npy',
        'test_output_padded.npy',
      ].sort(),
    );
    expect(names.every((n) => !n.includes('/'))).toBe(true);
  });

  it('stores weights, deflates text and small compressible files (the padded test output)', () => {
    const cd = centralDirectory(zipBytes);
    for (const e of cd) {
      const weights = /\.(onnx|pt)$/.test(e.name);
      const text = ['rdf.yaml', 'README.md', 'architecture.py'].includes(e.name);
      if (weights) expect([e.name, e.method]).toEqual([e.name, 0]);
      if (text) expect([e.name, e.method]).toEqual([e.name, 8]);
      // 'auto': deflated only when that saves ≥ 10 %
      if (e.method === 8) expect([e.name, e.compressedSize < e.size]).toEqual([e.name, true]);
      if (!weights && !text && e.method === 0) {
        const deflated = deflateSync(entries[e.name] as Uint8Array, { level: 6 }).length;
        expect([e.name, deflated > 0.9 * e.size]).toEqual([e.name, true]);
      }
    }
    // mostly zero border: deflated to a small fraction
    const padded = cd.find((e) => e.name === 'test_output_padded.npy');
    expect(padded?.method).toBe(8);
    expect(padded?.compressedSize).toBeLessThan((padded?.size ?? 0) / 2);
  });

  it('ships the bundle files byte for byte, and every declared sha256 is the entry hash', () => {
    for (const [entry, file] of [
      ['model.onnx', 'model.onnx'],
      ['model_padded.onnx', 'zoo/model.onnx'],
      ['model_padded.torchscript.pt', 'zoo/model.torchscript.pt'],
      ['state_dict.pt', 'state_dict.pt'],
      ['architecture.py', 'architecture.py'],
      ['test_input.npy', 'test_input.npy'],
    ] as const) {
      expect([
        entry,
        Buffer.from(entries[entry] as Uint8Array).equals(readFileSync(join(bundleDir, file))),
      ]).toEqual([entry, true]);
    }
    const declared: [string, string][] = [];
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n && typeof n === 'object') {
        const o = n as Record<string, unknown>;
        if (typeof o.source === 'string' && typeof o.sha256 === 'string') declared.push([o.source, o.sha256]);
        Object.values(o).forEach(walk);
      }
    };
    walk(rdf);
    expect(declared.map(([s]) => s).sort()).toEqual([
      'architecture.py',
      'model.onnx', // attachments
      'model.onnx', // config.emzoo.valid_output_onnx
      'model_padded.onnx',
      'model_padded.torchscript.pt',
      'sample_input.tif',
      'sample_output.tif',
      'state_dict.pt',
      'test_input.npy',
      'test_output_padded.npy',
    ]);
    expect(rdf.weights.onnx.source).toBe('model_padded.onnx');
    expect(rdf.config.emzoo.valid_output_onnx.source).toBe('model.onnx');
    // attached, so bioimageio.core's own packaging (which follows typed references only) keeps it
    expect(rdf.attachments).toEqual([{ source: 'model.onnx', sha256: bundle.files['model.onnx'] }]);
    for (const [source, hash] of declared)
      expect([source, sha(entries[source] as Uint8Array)]).toEqual([source, hash]);
  });

  it('builds the padded test output (not in the bundle): test_output.npy in a zero border', () => {
    expect(existsSync(join(bundleDir, 'zoo/test_output.npy'))).toBe(false);
    expect(bundle.zoo_variant.test_tensor).toBeUndefined();
    // numpy's pad of test_output.npy by the halo, written by an independent script
    const want = parseNpy(readFileSync(join(withStoredZooOutput(bundleDir), 'zoo/test_output.npy')));
    const got = parseNpy(entries['test_output_padded.npy'] as Uint8Array);
    expect(got.shape).toEqual([
      ...bundle.output.test_tensor.shape.slice(0, 2),
      ...bundle.input.test_tensor.shape.slice(2),
    ]);
    expect(got.shape).toEqual(want.shape);
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer))).toBe(true);
    expect(rdf.outputs[0].test_tensor.sha256).toBe(sha(entries['test_output_padded.npy'] as Uint8Array));
  });

  it('forced into zip64, holds the same entries: read by zip-read.ts and Python zipfile', async () => {
    const r = await packageBundle(bundleDir, { outDir: tempDir(), forceZip64: true });
    const zip = readZip(r.zipPath);
    expect([...zip.names].sort()).toEqual(Object.keys(entries).sort());
    for (const [name, bytes] of Object.entries(entries))
      expect([name, sha(zip.get(name))]).toEqual([name, sha(bytes)]);
    const py = execFileSync(
      join(ROOT, '.venv/bin/python'),
      [
        '-c',
        [
          'import hashlib, json, sys, zipfile',
          'z = zipfile.ZipFile(sys.argv[1])',
          'assert z.testzip() is None',
          'print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))',
        ].join('\n'),
        r.zipPath,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(py)).toEqual(Object.fromEntries(Object.entries(entries).map(([n, b]) => [n, sha(b)])));
    // the end record only points at the zip64 one
    const bytes = readFileSync(r.zipPath);
    expect(bytes.readUInt32LE(bytes.length - 22 + 16)).toBe(0xffff_ffff);
  }, 120_000);

  it('gives the same bytes for the same bundle', async () => {
    const again = await packageBundle(bundleDir, { outDir: tempDir() });
    expect(Buffer.from(readFileSync(again.zipPath)).equals(Buffer.from(zipBytes))).toBe(true);
  });
});

describe('package: rdf.yaml fields come from bundle.yaml', () => {
  it('has the top-level facts', () => {
    expect(rdf.type).toBe('model');
    expect(rdf.format_version).toBe('0.5.4');
    expect(rdf.name).toBe(bundle.name);
    expect(rdf.description).toBe(bundle.description);
    expect(rdf.license).toBe(bundle.license);
    expect(rdf.timestamp).toBe(bundle.created);
    expect(rdf.authors.map((a: { name: string }) => a.name)).toEqual(
      bundle.authors.map((a: { name: string }) => a.name),
    );
    expect(rdf.cite.map((c: { doi?: string }) => c.doi)).toEqual(
      bundle.citations.map((c: { doi?: string }) => c.doi),
    );
    expect(rdf.documentation).toBe('README.md');
    expect(rdf.covers).toEqual(['cover.png']);
    for (const t of ['electron-microscopy', '3d', 'connectomics', bundle.task, 'ilastik', 'deepimagej'])
      expect(rdf.tags).toContain(t);
  });

  it('declares the input sizes, voxel size and preprocessing', () => {
    const input = rdf.inputs[0];
    expect(input.id).toBe(bundle.input.name);
    expect(input.axes.map((a: { type: string; id?: string }) => a.id ?? a.type)).toEqual([
      'batch',
      'channel',
      'z',
      'y',
      'x',
    ]);
    expect(input.axes[1].channel_names).toEqual(bundle.input.channel_names);
    for (let i = 0; i < 3; i++) {
      expect(input.axes[2 + i].size).toEqual({
        min: bundle.input.valid_size.min[i],
        step: bundle.input.valid_size.step[i],
      });
      expect(input.axes[2 + i].scale).toBe(bundle.input.voxel_size_nm[i]);
      expect(input.axes[2 + i].unit).toBe('nanometer');
    }
    expect(input.preprocessing).toEqual([
      {
        id: 'scale_linear',
        kwargs: { gain: bundle.input.preprocessing.gain, offset: bundle.input.preprocessing.offset },
      },
    ]);
    expect(input.sample_tensor.source).toBe('sample_input.tif');
  });

  it('declares the zoo form: output at the input size, the invalid border as halo', () => {
    const out = rdf.outputs[0];
    expect(out.axes[1].channel_names).toEqual(bundle.output.channel_names);
    for (let i = 0; i < 3; i++) {
      const axis = out.axes[2 + i];
      expect(axis.size).toEqual({ tensor_id: bundle.input.name, axis_id: ['z', 'y', 'x'][i] });
      expect(axis.halo).toBe(bundle.output.halo[i]);
    }
    expect(out.test_tensor.source).toBe('test_output_padded.npy');
    const padded = parseNpy(entries['test_output_padded.npy'] as Uint8Array);
    expect(padded.shape.slice(2)).toEqual(bundle.input.test_tensor.shape.slice(2));
    expect(rdf.config.emzoo.output_form).toBe('padded');
  });

  it('lists the three weight formats with parents, versions and the architecture', () => {
    const w = rdf.weights;
    expect(w.onnx.opset_version).toBe(bundle.zoo_variant.weights.onnx.opset);
    expect(w.onnx.parent).toBe('pytorch_state_dict');
    expect(w.torchscript.parent).toBe('pytorch_state_dict');
    expect(w.torchscript.pytorch_version).toBe(bundle.weights.torchscript.torch_version);
    expect(w.pytorch_state_dict.parent).toBeUndefined();
    expect(w.pytorch_state_dict.architecture.callable).toBe(bundle.architecture.callable);
    // the shared state_dict.pt + architecture.py, built as the zoo variant
    expect(bundle.architecture.kwargs.pad_output).toBe(false);
    expect(w.pytorch_state_dict.architecture.kwargs).toEqual({
      ...bundle.architecture.kwargs,
      pad_output: true,
    });
  });

  it('keeps the extra facts in config', () => {
    expect(rdf.config.emzoo.task).toBe(bundle.task);
    expect(rdf.config.emzoo.voxel_size_nm).toEqual({
      z: bundle.input.voxel_size_nm[0],
      y: bundle.input.voxel_size_nm[1],
      x: bundle.input.voxel_size_nm[2],
    });
    expect(rdf.config.emzoo.semantics).toEqual(bundle.output.semantics);
    expect(rdf.config.emzoo.round_trip_errors.onnx_vs_pytorch).toEqual(bundle.zoo_variant.roundtrip.onnx);
    const tol = rdf.config.bioimageio.reproducibility_tolerance[0];
    expect(tol.absolute_tolerance).toBeGreaterThan(0);
    const offsets = bundle.output.semantics.affinity_offsets;
    // mws offsets describe every channel, so they appear only for affinity-only outputs
    if (offsets && offsets.length === bundle.output.channel_names.length)
      expect(rdf.config.mws.offsets).toEqual(offsets);
    else expect(rdf.config.mws).toBeUndefined();
  });

  it('writes a README a user can follow', () => {
    const readme = new TextDecoder().decode(entries['README.md']);
    expect(readme).toMatch(/^# Validation$/m);
    expect(readme).toContain('Neural Network Classification');
    expect(readme).toContain('deepImageJ');
    expect(readme).toContain('LabKit');
    expect(readme).toContain(`${bundle.input.voxel_size_nm.join(' × ')} nm`);
    for (const c of bundle.output.channel_names) expect(readme).toContain(`\`${c}\``);
    // each affinity channel's row names its own offset
    const affs: string[] = bundle.output.semantics.heads?.affs ?? [];
    affs.forEach((name, i) => {
      const row = readme.split('\n').find((l) => l.includes(`\`${name}\``)) as string;
      expect(row).toContain(`(${bundle.output.semantics.affinity_offsets[i].join(', ')})`);
    });
    for (const c of bundle.citations) expect(readme).toContain(c.doi);
  });

  it("tells a trained model's held-out quality in the README", () => {
    const readme = new TextDecoder().decode(entries['README.md']);
    const metrics: Record<string, number> = bundle.training?.held_out_metrics ?? {};
    if (Object.keys(metrics).length === 0) {
      expect(readme).not.toContain('Held-out metrics');
      return;
    }
    expect(readme).toContain(`Held-out metrics on ${bundle.training.data.held_out}`);
    for (const [k, v] of Object.entries(metrics)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| ${k} |`)) as string;
      expect(Number(row.split('|')[2])).toBeCloseTo(v, Number.isInteger(v) ? 10 : 3);
    }
    for (const [k, v] of Object.entries(bundle.training.postprocessing ?? {}))
      expect(readme).toContain(`${k} = ${v}`);
  });
});

describe('package: refusals', () => {
  it('refuses a bundle whose test output was altered, and writes no zip', async () => {
    const dir = copyBundle(bundleDir);
    const p = join(dir, 'test_output.npy');
    const bytes = new Uint8Array(readFileSync(p));
    const headerEnd = bytes.indexOf(0x0a) + 1; // end of the .npy header line
    const data = new Float32Array(bytes.buffer.slice(headerEnd));
    data[0] = (data[0] as number) + 0.01;
    bytes.set(new Uint8Array(data.buffer), headerEnd);
    writeFileSync(p, bytes);
    // keep bundle.yaml's hash in step, so the reproduce check (not the hash check) has to catch it
    const text = readFileSync(join(dir, 'bundle.yaml'), 'utf8').replace(
      bundle.files['test_output.npy'],
      sha(bytes),
    );
    writeFileSync(join(dir, 'bundle.yaml'), text);
    const out = tempDir();
    const err = await packageBundle(dir, { outDir: out }).catch((e: unknown) => e);
    expect(isExportError(err, 'ReproduceFailed')).toBe(true);
    expect((err as Error).message).toMatch(/max abs error 1\.00*e-2/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a bundle whose zoo ONNX does not reproduce the padded test output', async () => {
    const dir = copyBundle(bundleDir);
    const p = join(dir, 'zoo/model.onnx');
    const onnx = readFileSync(join(dir, 'model.onnx')); // the valid-output graph: cropped output
    writeFileSync(p, onnx);
    const text = readFileSync(join(dir, 'bundle.yaml'), 'utf8').replace(
      bundle.files['zoo/model.onnx'],
      sha(onnx),
    );
    writeFileSync(join(dir, 'bundle.yaml'), text);
    const out = tempDir();
    const err = await packageBundle(dir, { outDir: out }).catch((e: unknown) => e);
    expect(isExportError(err, 'ReproduceFailed')).toBe(true);
    expect((err as Error).message).toContain('test_output.npy padded');
    expect((err as Error).message).toMatch(/output shape/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('packages a bundle that stores zoo/test_output.npy (earlier exports) with that file', async () => {
    const dir = withStoredZooOutput(bundleDir);
    const r = await packageBundle(dir, { outDir: tempDir() });
    const files = unzipSync(new Uint8Array(readFileSync(r.zipPath)));
    const stored = readFileSync(join(dir, 'zoo/test_output.npy'));
    expect(Buffer.from(files['test_output_padded.npy'] as Uint8Array).equals(stored)).toBe(true);
    expect(r.rdf.outputs[0]?.test_tensor.sha256).toBe(sha(stored));
  }, 60_000);

  it('refuses a bundle whose stored zoo test output was altered', async () => {
    const dir = withStoredZooOutput(bundleDir);
    const stored = readFileSync(join(dir, 'bundle.yaml'), 'utf8').match(
      /zoo\/test_output\.npy: ([0-9a-f]{64})/,
    )?.[1];
    const p = join(dir, 'zoo/test_output.npy');
    const bytes = new Uint8Array(readFileSync(p));
    const headerEnd = bytes.indexOf(0x0a) + 1;
    const data = new Float32Array(bytes.buffer.slice(headerEnd));
    const mid = Math.floor(data.length / 2); // inside the valid centre
    data[mid] = (data[mid] as number) + 0.01;
    bytes.set(new Uint8Array(data.buffer), headerEnd);
    writeFileSync(p, bytes);
    const text = readFileSync(join(dir, 'bundle.yaml'), 'utf8').replace(stored as string, sha(bytes));
    writeFileSync(join(dir, 'bundle.yaml'), text);
    const out = tempDir();
    const err = await packageBundle(dir, { outDir: out }).catch((e: unknown) => e);
    expect(isExportError(err, 'ReproduceFailed')).toBe(true);
    expect((err as Error).message).toContain('zoo/test_output.npy');
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a bundle whose zoo weights no longer match their sha256', async () => {
    const dir = copyBundle(bundleDir);
    const p = join(dir, 'zoo/model.torchscript.pt');
    const bytes = new Uint8Array(readFileSync(p));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    writeFileSync(p, bytes);
    const err = await packageBundle(dir, { outDir: tempDir() }).catch((e: unknown) => e);
    expect(isExportError(err, 'BundleInvalid')).toBe(true);
    expect((err as Error).message).toContain('zoo/model.torchscript.pt');
  });

  it('refuses a shipped .pt file that changed (checked as it streams into the zip), leaving no zip', async () => {
    const dir = copyBundle(bundleDir);
    const p = join(dir, 'state_dict.pt');
    const bytes = new Uint8Array(readFileSync(p));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    writeFileSync(p, bytes);
    const out = tempDir();
    const err = await packageBundle(dir, { outDir: out }).catch((e: unknown) => e);
    expect(isExportError(err, 'BundleInvalid')).toBe(true);
    expect((err as Error).message).toContain('state_dict.pt does not match its sha256');
    expect(readdirSync(out)).toEqual([]);
  });

  it('does not read a .pt file the package does not ship (the valid TorchScript beside a zoo variant)', async () => {
    const dir = copyBundle(bundleDir);
    writeFileSync(join(dir, 'model.torchscript.pt'), 'not the exported file');
    const r = await packageBundle(dir, { outDir: tempDir() });
    expect(readZip(r.zipPath).names).not.toContain('model.torchscript.pt');
  }, 60_000);

  it('refuses a bundle whose file no longer matches its sha256', async () => {
    const dir = copyBundle(bundleDir);
    writeFileSync(
      join(dir, 'architecture.py'),
      `${readFileSync(join(dir, 'architecture.py'), 'utf8')}\n# edited\n`,
    );
    const out = tempDir();
    const err = await packageBundle(dir, { outDir: out }).catch((e: unknown) => e);
    expect(isExportError(err, 'BundleInvalid')).toBe(true);
    expect((err as Error).message).toContain('architecture.py');
    expect(existsSync(join(out, `${bundle.id}.zip`))).toBe(false);
  });
});

describe('package: a class-output (Synister-like) model', () => {
  let classes: string;
  beforeAll(() => {
    classes = tinyBundle('classes');
  }, 60_000);

  it('packages for Fiji only by default, with batch + channel output axes', async () => {
    const r = await packageBundle(classes, { outDir: tempDir() });
    expect(r.profiles).toEqual(['fiji']);
    expect(r.notes.join()).toMatch(/ilastik/);
    const out = r.rdf.outputs[0];
    expect(out?.axes).toEqual([
      { type: 'batch' },
      { type: 'channel', channel_names: ['gaba', 'acetylcholine', 'glutamate'] },
    ]);
    expect(r.rdf.config.emzoo).toMatchObject({
      semantics: { class_names: ['gaba', 'acetylcholine', 'glutamate'] },
    });
  });

  it('refuses --for ilastik with the rule it breaks', async () => {
    const out = tempDir();
    const err = await packageBundle(classes, { outDir: out, profiles: ['ilastik'] }).catch((e: unknown) => e);
    expect(isExportError(err, 'ConsumerRuleFailed')).toBe(true);
    expect((err as Error).message).toMatch(/space axes/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('package: a bundle without a zoo variant (valid output form)', () => {
  it('ships the bundle files as they are and declares the crop as a size offset', async () => {
    const dir = tinyBundle('dense');
    const r = await packageBundle(dir, { outDir: tempDir() });
    const files = unzipSync(new Uint8Array(readFileSync(r.zipPath)));
    expect(
      Object.keys(files)
        .filter((n) => /\.(onnx|pt|npy)$/.test(n))
        .sort(),
    ).toEqual(['model.onnx', 'model.torchscript.pt', 'state_dict.pt', 'test_input.npy', 'test_output.npy']);
    const space = (r.rdf.outputs[0]?.axes ?? []).filter((a) => a.type === 'space');
    expect(space.map((a) => a.size)).toEqual(
      ['z', 'y', 'x'].map((id) => ({ tensor_id: 'raw', axis_id: id, offset: -4 })),
    );
    expect(space.every((a) => !('halo' in a))).toBe(true);
    expect(r.rdf.weights.onnx?.source).toBe('model.onnx');
    expect(r.rdf.config.emzoo).toMatchObject({ output_form: 'valid' });
    expect((r.rdf.config.emzoo as Record<string, unknown>).valid_output_onnx).toBeUndefined();
    expect(r.rdf.attachments).toBeUndefined();
  }, 60_000);
});

describe('package: a network whose output keeps the input size', () => {
  it('declares the border as halo (size reference without offset) and passes the model test', async () => {
    const r = await packageBundle(tinyBundle('padded'), { outDir: tempDir() });
    const space = (r.rdf.outputs[0]?.axes ?? []).filter((a) => a.type === 'space');
    expect(space.map((a) => ('halo' in a ? a.halo : undefined))).toEqual([2, 2, 2]);
    expect(space.map((a) => a.size)).toEqual(
      ['z', 'y', 'x'].map((id) => ({ tensor_id: 'raw', axis_id: id })),
    );
  }, 60_000);
});
