/**
 * Differential test: generated descriptions (valid ones, and ones with exactly one defect each)
 * validated by this validator and by Python bioimageio.spec (the version in the bioimageio extra,
 * one process for the whole batch). The verdicts (valid / invalid) must agree on every case.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { folderSource, validatePackage } from '../../spec/index.js';
import { DEFECTS, DEFECTS_V04, QUIRKS } from './helpers/defects.js';
import {
  BASE_VARIANT,
  buildFixture,
  type Fixture,
  type Variant,
  writeFixture,
} from './helpers/model-fixture.js';
import { buildFixtureV04 } from './helpers/model-fixture-v0-4.js';

interface Case {
  name: string;
  /** 0.4 packages are read converted to 0.5 on both sides (what ilastik does). */
  latest: boolean;
  designedValid: boolean;
  level: 'valid' | 'schema' | 'semantic';
  dir: string;
}
interface PyVerdict {
  path: string;
  status: string;
  errors: { loc: string; msg: string }[];
}
interface Outcome extends Case {
  py: PyVerdict;
  tsOk: boolean;
  tsErrors: string[];
}

const PYTHON = join(process.cwd(), '.venv/bin/python');
const SCRIPT = join(process.cwd(), 'spec/scripts/validate-batch.py');

/** Valid variants: a deterministic walk over the axes of variation. */
function validVariants(count: number): Variant[] {
  const out: Variant[] = [];
  const weightSets: Variant['weights'][] = [
    ['onnx'],
    ['torchscript'],
    ['pytorch_state_dict'],
    ['onnx', 'torchscript'],
    ['pytorch_state_dict', 'torchscript', 'onnx'],
  ];
  const pres: Variant['pre'][] = [
    'zero_mean_unit_variance',
    'scale_range',
    'fixed_zero_mean_unit_variance',
    'scale_linear',
    'none',
  ];
  const posts: Variant['post'][] = ['sigmoid', 'none', 'binarize', 'clip'];
  for (let i = 0; i < count; i++) {
    out.push({
      dims: i % 2 === 0 ? 3 : 2,
      inChannels: 1 + (i % 3),
      outChannels: 1 + ((i * 7) % 5),
      sizes: i % 4 === 3 ? 'fixed' : 'param',
      halo: [0, 1, 4, 7][i % 4] as number,
      weights: weightSets[i % weightSets.length] as Variant['weights'],
      pre: pres[(i * 3) % pres.length] as Variant['pre'],
      post: posts[(i * 5) % posts.length] as Variant['post'],
      unit: i % 3 !== 1,
      fair: i % 5 !== 4,
      inDtype: i % 6 === 5 ? 'uint8' : 'float32',
      sample: i % 3 === 2 ? 'none' : i % 7 === 1 && i % 2 === 1 ? 'png' : 'tif',
      seed: 100 + i,
    });
  }
  return out;
}

const BASES: Variant[] = [
  BASE_VARIANT,
  {
    ...BASE_VARIANT,
    dims: 2,
    inChannels: 2,
    outChannels: 2,
    weights: ['pytorch_state_dict', 'onnx'],
    pre: 'scale_range',
    halo: 2,
    unit: false,
    seed: 7,
  },
];

let root: string;
let outcomes: Outcome[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'emzoo-differential-'));
  const cases: Case[] = [];
  const add = (name: string, level: Case['level'], fx: Fixture, latest = false) => {
    const dir = join(root, `case-${String(cases.length).padStart(3, '0')}`);
    writeFixture(dir, fx);
    cases.push({ name, level, designedValid: level === 'valid', dir, latest });
  };
  validVariants(80).forEach((v, i) => {
    add(
      `valid #${i} (${v.dims}D, ${v.weights.join('+')}, ${v.pre}/${v.post}, halo ${v.halo})`,
      'valid',
      buildFixture(v),
    );
  });
  BASES.forEach((base, b) => {
    for (const q of QUIRKS) {
      const fx = buildFixture(base);
      q.apply(fx);
      add(`${q.name} [base ${b}]`, 'valid', fx);
    }
    for (const d of DEFECTS) {
      const fx = buildFixture(base);
      d.apply(fx);
      add(`${d.name} [base ${b}]`, d.level, fx);
    }
  });

  for (const shape of ['explicit', 'parameterized'] as const) {
    for (const [channels, halo] of [
      [1, 0],
      [2, 8],
      [3, 4],
    ] as const) {
      const v = { shape, channels, halo, seed: channels * 10 + halo };
      add(`0.4 valid (${shape}, ${channels} channels, halo ${halo})`, 'valid', buildFixtureV04(v), true);
      for (const d of DEFECTS_V04) {
        if (channels !== 2) continue;
        const fx = buildFixtureV04(v);
        d.apply(fx);
        add(`0.4 ${d.name} (${shape})`, d.level, fx, true);
      }
    }
  }

  // An empty cwd: bioimageio.spec falls back to resolving a missing relative file against the cwd.
  const cwd = join(root, 'empty-cwd');
  mkdirSync(cwd);
  const t0 = Date.now();
  const py = spawnSync(PYTHON, [SCRIPT], {
    cwd,
    input: JSON.stringify(cases.map((c) => (c.latest ? { path: c.dir, format_version: 'latest' } : c.dir))),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (py.status !== 0)
    throw new Error(
      `bioimageio.spec batch validation failed (is the 'bioimageio' extra installed? run scripts/setup.sh):\n${py.stderr}`,
    );
  const verdicts = JSON.parse(py.stdout) as PyVerdict[];
  const t1 = Date.now();
  outcomes = await Promise.all(
    cases.map(async (c, i) => {
      const { report } = await validatePackage(folderSource(c.dir));
      return {
        ...c,
        py: verdicts[i] as PyVerdict,
        tsOk: report.ok,
        tsErrors: report.errors.map((e) => `${e.path} ${e.message}`),
      };
    }),
  );
  console.log(
    `differential: ${cases.length} cases; bioimageio.spec took ${((t1 - t0) / 1000).toFixed(1)} s, emzoo ${((Date.now() - t1) / 1000).toFixed(1)} s`,
  );
}, 180_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const pyOk = (o: Outcome) => o.py.status !== 'failed' && o.py.status !== 'crashed';

describe('differential: emzoo spec/ vs bioimageio.spec', () => {
  test('generates at least 200 cases, valid and invalid', () => {
    expect(outcomes.length).toBeGreaterThanOrEqual(200);
    expect(outcomes.filter(pyOk).length).toBeGreaterThanOrEqual(60);
    expect(outcomes.filter((o) => !pyOk(o)).length).toBeGreaterThanOrEqual(150);
  });

  test('bioimageio.spec never crashes on a case', () => {
    expect(
      outcomes.filter((o) => o.py.status === 'crashed').map((o) => `${o.name}: ${o.py.errors[0]?.msg}`),
    ).toEqual([]);
  });

  test('each designed case gets the designed verdict from bioimageio.spec', () => {
    const wrong = outcomes
      .filter((o) => pyOk(o) !== o.designedValid)
      .map(
        (o) =>
          `${o.name}: bioimageio.spec says ${o.py.status} ${o.py.errors.map((e) => `${e.loc}: ${e.msg}`).join(' | ')}`,
      );
    if (wrong.length) console.log(`designed verdict not matched by bioimageio.spec:\n${wrong.join('\n')}`);
    expect(wrong).toEqual([]);
  });

  test('verdicts agree on every case', () => {
    const disagree = outcomes.filter((o) => pyOk(o) !== o.tsOk);
    const lines = disagree.map(
      (o) =>
        `${o.name} (${o.dir}): bioimageio.spec ${o.py.status} [${o.py.errors.map((e) => `${e.loc}: ${e.msg.slice(0, 200)}`).join(' | ')}], emzoo ${o.tsOk ? 'valid' : 'invalid'} [${o.tsErrors.join(' | ')}]`,
    );
    console.log(
      `differential: ${outcomes.length} cases, ${outcomes.length - disagree.length} agree, ${disagree.length} disagree`,
    );
    if (lines.length) console.log(lines.join('\n'));
    expect(lines).toEqual([]);
  });
});
