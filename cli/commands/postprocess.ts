/**
 * `postprocess`: a prediction zarr written by `predict` → the task's result. lsd: affinities →
 * segmentation (OME-Zarr, uint64 ids); synful: indicator + vectors → synaptic partners (JSON);
 * synister: per-synapse probabilities (.npy) + neuron ids (.npy) → per-neuron transmitter (JSON);
 * micron: soft mask → NMS candidates → candidate graph → track ILP (HiGHS) → tracks (JSON).
 * Whole volumes are held in memory, so a voxel budget refuses volumes that would not fit.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import FileSystemStore from '@zarrita/storage/fs';
import { Command } from 'commander';
import * as zarr from 'zarrita';
import {
  affinities,
  candidateGraph,
  checkVoxelBudget,
  DEFAULT_VOXEL_BUDGET,
  extractPartners,
  MICRON_COSTS,
  neuronVotes,
  nmsCandidates,
  type PartnerPair,
  PipelineInputError,
  scorePartners,
  segmentAffinities,
  segmentationScores,
  solveTracks,
  tracksFromEdges,
} from '../../pipelines/index.js';
import { createVolume, type NdArray, openVolume, readNpy, type Volume } from '../../runtime/index.js';
import { parseZarrLocation } from '../../server/index.js';
import type { Io } from '../io.js';
import { asCliError } from './cli-errors.js';

const TASKS = ['lsd', 'synful', 'synister', 'micron'] as const;
type Task = (typeof TASKS)[number];

interface PostprocessOpts {
  input: string;
  output: string;
  channels?: string;
  offsets?: string;
  threshold: string;
  minSeedDistance: string;
  fill: boolean;
  minScore: string;
  neurons?: string;
  classNames?: string;
  maxVoxels: string;
  gt?: string;
  matchDistance: string;
  nmsWindow: string;
  maxEdgeNm: string;
  startPrior: string;
  selectionCost: string;
  timeLimit: string;
  overwrite?: boolean;
  quiet?: boolean;
}

const MAX_VOXELS_FLAG = '--max-voxels';

function bad(what: string, reason: string, hint: string): PipelineInputError {
  return new PipelineInputError(what, reason, hint);
}

function number(v: string, flag: string, check: (n: number) => boolean, rule: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n))
    throw bad(flag, `must be ${rule}, got '${v}'`, `e.g. ${flag} 0.5`);
  return n;
}

export function postprocessCommand(io: Io): Command {
  return new Command('postprocess')
    .description(
      "a task's post-processing on a `predict` output: segmentation, synaptic partners, per-neuron votes",
    )
    .argument('<task>', `one of: ${TASKS.join(', ')}`)
    .requiredOption(
      '-i, --input <zarr|npy>',
      'prediction zarr (out.zarr[/group]); synister: probabilities .npy (N × classes)',
    )
    .requiredOption('-o, --output <zarr|json>', 'lsd: segmentation .zarr; synful, synister: .json')
    .option('--channels <names>', 'channels to use, comma-separated (default: by name, see below)')
    .option('--offsets <list>', "lsd: affinity offsets 'dz,dy,dx;…' (default: -1,0,0;0,-1,0;0,0,-1)")
    .option('--threshold <t>', 'lsd: merge threshold on mean affinity; synful: indicator threshold', '0.5')
    .option('--min-seed-distance <voxels>', 'lsd: max-filter size for watershed seeds', '10')
    .option('--no-fill', 'lsd: leave the boundary band 0 (default: fill from the nearest segment)')
    .option('--min-score <s>', 'synful: drop partners whose summed indicator is lower', '0')
    .option('--neurons <npy>', 'synister: neuron id of every synapse (.npy, N)')
    .option('--class-names <names>', 'synister: class names, comma-separated (default: class indices)')
    .option(
      '--gt <zarr|json>',
      'lsd: ground-truth labels zarr → VOI and adapted Rand; synful: true partners JSON → P/R/F1',
    )
    .option('--match-distance <nm>', 'synful: matching distance for --gt (post and pre within it)', '400')
    .option('--nms-window <z,y,x>', 'micron: NMS block (voxels)', '1,10,10')
    .option('--max-edge-nm <d>', 'micron: join candidates closer than this (nm)', '100')
    .option(
      '--start-prior <c>',
      'micron: ILP cost of a track end (half of it)',
      String(MICRON_COSTS.startPrior),
    )
    .option(
      '--selection-cost <c>',
      'micron: ILP cost of selecting a candidate',
      String(MICRON_COSTS.selectionCost),
    )
    .option('--time-limit <s>', 'micron: ILP time limit in seconds', String(MICRON_COSTS.timeLimit))
    .option(
      `${MAX_VOXELS_FLAG} <n>`,
      'refuse volumes with more voxels (memory: about 250 bytes per voxel)',
      String(DEFAULT_VOXEL_BUDGET),
    )
    .option('--overwrite', 'replace an existing output')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Channels by name (the output of \`predict\` carries the model's channel names): lsd uses the
channels named aff_*, synful syn_indicator and vector_z/y/x (--channels: indicator first), micron
soft_mask (--threshold is then the NMS threshold). uint8 predictions (--uint8) are divided by 255
(not for synful: its vectors need float32). Locations are in nm: the prediction's OME-Zarr scale
and translation. Whole volumes are processed in memory (--max-voxels).

Examples:
  $ bioimage-export postprocess lsd -i affs.zarr -o seg.zarr --threshold 0.5
  $ bioimage-export postprocess synful -i syn.zarr -o partners.json --min-score 10
  $ bioimage-export postprocess synister -i probs.npy --neurons neurons.npy -o neurons.json
  $ bioimage-export postprocess micron -i mt.zarr -o tracks.json --max-edge-nm 100`,
    )
    .action(async (task: string, opts: PostprocessOpts) => {
      try {
        await postprocess(io, task, opts);
      } catch (err) {
        throw asCliError(err);
      }
    });
}

async function postprocess(io: Io, task: string, opts: PostprocessOpts): Promise<void> {
  if (!(TASKS as readonly string[]).includes(task)) {
    throw bad('task', `'${task}' is not a post-processing task`, `use one of: ${TASKS.join(', ')}`);
  }
  const maxVoxels = number(
    opts.maxVoxels,
    MAX_VOXELS_FLAG,
    (n) => Number.isInteger(n) && n > 0,
    'a positive integer',
  );
  const t0 = performance.now();
  const step = (message: string) => {
    if (!opts.quiet)
      io.err(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${task}: ${message}\n`);
  };
  const run: Record<Task, () => Promise<void>> = {
    lsd: () => lsd(io, opts, maxVoxels, step),
    synful: () => synful(io, opts, maxVoxels, step),
    synister: () => synister(io, opts, step),
    micron: () => micron(io, opts, maxVoxels, step),
  };
  await run[task as Task]();
}

interface Prediction {
  readonly vol: Volume;
  readonly names: readonly string[];
  readonly voxelSize: [number, number, number];
  readonly offset: [number, number, number];
}

/** The prediction array with its channel names (OME omero labels) and placement (nm). */
async function openPrediction(input: string, maxVoxels: number): Promise<Prediction> {
  const loc = parseZarrLocation(input);
  const vol = await openVolume(loc.container, loc.path ? { path: loc.path } : {});
  if (vol.shape.length !== 4) {
    throw bad(
      input,
      `has shape [${vol.shape}], expected (channels, z, y, x)`,
      'pass the output of `bioimage-export predict`',
    );
  }
  checkVoxelBudget(
    input,
    (vol.shape[1] ?? 0) * (vol.shape[2] ?? 0) * (vol.shape[3] ?? 0),
    maxVoxels,
    MAX_VOXELS_FLAG,
  );
  let names: string[] = [];
  if (!/^https?:\/\//.test(loc.container)) {
    try {
      const group = await zarr.open(zarr.root(new FileSystemStore(loc.container)).resolve(loc.path || '/'), {
        kind: 'group',
      });
      const ome = (group.attrs.ome ?? group.attrs) as { omero?: { channels?: { label?: unknown }[] } };
      names = (ome.omero?.channels ?? []).map((c) => String(c.label ?? ''));
    } catch {
      names = []; // a plain array: channels must be named with --channels
    }
  }
  const scale = vol.placement?.scale?.slice(-3) ?? [1, 1, 1];
  const translation = vol.placement?.translation?.slice(-3) ?? [0, 0, 0];
  return {
    vol,
    names,
    voxelSize: scale as [number, number, number],
    offset: translation as [number, number, number],
  };
}

function pickChannels(
  p: Prediction,
  wanted: readonly string[] | undefined,
  pick: (n: string) => boolean,
  what: string,
): number[] {
  const n = p.vol.shape[0] as number;
  if (wanted) {
    return wanted.map((w) => {
      const byName = p.names.indexOf(w);
      const byIndex = /^\d+$/.test(w) ? Number(w) : -1;
      const k = byName >= 0 ? byName : byIndex;
      if (k < 0 || k >= n) {
        throw bad(
          '--channels',
          `'${w}' is neither a channel name nor an index below ${n}`,
          `channels: ${p.names.join(', ') || `0..${n - 1}`}`,
        );
      }
      return k;
    });
  }
  const found = p.names.flatMap((name, k) => (pick(name) ? [k] : []));
  if (found.length === 0) {
    throw bad(
      p.vol.location,
      `has no ${what} channels (channels: ${p.names.join(', ') || 'unnamed'})`,
      'name them with --channels',
    );
  }
  return found;
}

/** Channels `ks` as float32 in [0, 1] scale (uint8 predictions are value · 255). */
async function readChannels(p: Prediction, ks: readonly number[]): Promise<Float32Array> {
  const [, z, y, x] = p.vol.shape as [number, number, number, number];
  const n = z * y * x;
  const out = new Float32Array(ks.length * n);
  for (const [j, k] of ks.entries()) {
    const arr: NdArray = await p.vol.read({ start: [k, 0, 0, 0], stop: [k + 1, z, y, x] });
    const scale = arr.dtype === 'uint8' ? 1 / 255 : 1;
    const src = arr.data as ArrayLike<number>;
    for (let i = 0; i < n; i++) out[j * n + i] = (src[i] as number) * scale;
  }
  return out;
}

const list = (s: string | undefined) =>
  s
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);

function parseOffsets(s: string): number[][] {
  return s.split(';').map((o) => {
    const v = o.split(',').map((t) => Number(t.trim()));
    if (v.length !== 3 || !v.every(Number.isInteger)) {
      throw bad('--offsets', `'${o}' is not dz,dy,dx integers`, "e.g. --offsets '-1,0,0;0,-1,0;0,0,-1'");
    }
    return v;
  });
}

async function lsd(io: Io, opts: PostprocessOpts, maxVoxels: number, step: (m: string) => void) {
  if (!/\.zarr\/?$/.test(opts.output))
    throw bad(
      '--output',
      `'${opts.output}' is not a .zarr path`,
      'lsd writes a segmentation volume: -o seg.zarr',
    );
  const threshold = number(opts.threshold, '--threshold', (t) => t >= 0 && t <= 1, 'a number in [0, 1]');
  const minSeed = number(
    opts.minSeedDistance,
    '--min-seed-distance',
    (t) => Number.isInteger(t) && t > 0,
    'a positive integer',
  );
  const offsets = parseOffsets(opts.offsets ?? '-1,0,0;0,-1,0;0,0,-1');
  const p = await openPrediction(opts.input, maxVoxels);
  const ks = pickChannels(p, list(opts.channels), (n) => n.startsWith('aff'), 'affinity (aff_*)');
  if (ks.length !== offsets.length) {
    throw bad(
      '--offsets',
      `${offsets.length} offsets for ${ks.length} affinity channels`,
      'give one offset per channel (--offsets) or pick channels (--channels)',
    );
  }
  step(`reading ${ks.length} affinity channels of [${p.vol.shape.slice(1)}]`);
  const data = await readChannels(p, ks);
  const affs = affinities([ks.length, ...p.vol.shape.slice(1)], data, offsets);
  const seg = segmentAffinities(affs, {
    threshold,
    minSeedDistance: minSeed,
    fill: opts.fill,
    onStep: (_, detail) => step(detail),
  });
  if (opts.gt !== undefined) {
    const loc = parseZarrLocation(opts.gt);
    const gt = await openVolume(loc.container, loc.path ? { path: loc.path } : {});
    if (gt.shape.join() !== seg.shape.join()) {
      throw bad(
        '--gt',
        `has shape [${gt.shape}], the segmentation [${seg.shape}]`,
        'pass labels over the same region as the prediction',
      );
    }
    const labels = await gt.read({ start: [0, 0, 0], stop: [...seg.shape] });
    const scores = segmentationScores(labels.data as ArrayLike<number>, seg.data);
    step('scored against --gt (gt label 0 ignored)');
    io.out(`${JSON.stringify({ gt: opts.gt, ...scores })}\n`);
  }
  const ids = BigUint64Array.from(seg.data, (v) => BigInt(v));
  const segments = new Set(seg.data).size - (seg.data.includes(0) ? 1 : 0);
  const out = await createVolume(opts.output, {
    shape: [...seg.shape],
    chunks: seg.shape.map((s) => Math.min(s, 64)),
    dtype: 'uint64',
    ome: { channelAxis: false, voxelSize: p.voxelSize, translation: p.offset, name: 'segmentation' },
    attributes: {
      emzoo: {
        postprocess: 'lsd',
        input: opts.input,
        threshold,
        min_seed_distance: minSeed,
        fill: opts.fill,
      },
    },
    overwrite: opts.overwrite === true,
  });
  await out.write([0, 0, 0], { dtype: 'uint64', shape: [...seg.shape], data: ids });
  step('written');
  io.out(`wrote ${opts.output}: ${segments} segments in [${seg.shape}]\n`);
}

async function writeJson(path: string, value: unknown, overwrite: boolean) {
  if (!path.endsWith('.json')) throw bad('--output', `'${path}' is not a .json path`, 'e.g. -o result.json');
  await writeFile(path, `${JSON.stringify(value, null, 1)}\n`, { flag: overwrite ? 'w' : 'wx' }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST')
        throw bad('--output', `'${path}' already exists`, 'pass --overwrite or choose another path');
      throw err;
    },
  );
}

async function synful(io: Io, opts: PostprocessOpts, maxVoxels: number, step: (m: string) => void) {
  const threshold = number(opts.threshold, '--threshold', (t) => t >= 0 && t <= 1, 'a number in [0, 1]');
  const minScore = number(opts.minScore, '--min-score', (t) => t >= 0, 'a number ≥ 0');
  const p = await openPrediction(opts.input, maxVoxels);
  const wanted = list(opts.channels);
  const [ind] = pickChannels(p, wanted?.slice(0, 1), (n) => n === 'syn_indicator', 'syn_indicator');
  const vec = pickChannels(p, wanted?.slice(1), (n) => /^vector_[zyx]$/.test(n), 'vector_z/y/x');
  if (vec.length !== 3)
    throw bad(
      '--channels',
      `found ${vec.length} vector channels, need 3`,
      'e.g. --channels syn_indicator,vector_z,vector_y,vector_x',
    );
  if (p.vol.dtype !== 'float32') {
    throw bad(
      opts.input,
      `is ${p.vol.dtype}: the partner vectors (nm) do not survive a uint8 prediction`,
      'run `bioimage-export predict` without --uint8 for Synful models',
    );
  }
  step(`reading indicator + vectors of [${p.vol.shape.slice(1)}]`);
  const prob = await readChannels(p, [ind as number]);
  // vectors are nm, never scaled: read raw values
  const [, z, y, x] = p.vol.shape as [number, number, number, number];
  const vectors = new Float32Array(3 * z * y * x);
  for (const [j, k] of vec.entries()) {
    const arr = await p.vol.read({ start: [k, 0, 0, 0], stop: [k + 1, z, y, x] });
    vectors.set(arr.data as Float32Array, j * z * y * x);
  }
  const partners = extractPartners({ shape: [z, y, x], data: prob }, vectors, {
    voxelSize: p.voxelSize,
    offset: p.offset,
    threshold,
    minScore,
  });
  step(`${partners.length} partners`);
  let scores: Record<string, unknown> | undefined;
  if (opts.gt !== undefined) {
    const distance = number(opts.matchDistance, '--match-distance', (t) => t > 0, 'a positive number (nm)');
    const truth = readTruePartners(opts.gt);
    const { matches, ...counts } = scorePartners(partners, truth, distance);
    scores = { gt: opts.gt, match_distance_nm: distance, ...counts };
    io.out(`${JSON.stringify(scores)}\n`);
  }
  await writeJson(
    opts.output,
    { task: 'synful', units: 'nm', threshold, min_score: minScore, ...(scores ? { scores } : {}), partners },
    opts.overwrite === true,
  );
  io.out(`wrote ${opts.output}: ${partners.length} synaptic partners\n`);
}

async function synister(io: Io, opts: PostprocessOpts, step: (m: string) => void) {
  if (!opts.neurons)
    throw bad(
      '--neurons',
      'is required for synister',
      'pass the neuron id of every synapse as an .npy of N ids',
    );
  const probs = await readNpy(opts.input);
  const ids = await readNpy(opts.neurons);
  if (probs.shape.length !== 2 || ids.shape.length !== 1 || ids.shape[0] !== probs.shape[0]) {
    throw bad(
      opts.input,
      `probabilities [${probs.shape}] and neuron ids [${ids.shape}] do not pair up`,
      'pass (N, classes) probabilities and N neuron ids',
    );
  }
  const [n, k] = probs.shape as [number, number];
  const flat = Array.from(probs.data as ArrayLike<number | bigint>, Number);
  const rows = Array.from({ length: n }, (_, i) => flat.slice(i * k, (i + 1) * k));
  const neurons = Array.from(ids.data as ArrayLike<number | bigint>, Number);
  const names = list(opts.classNames);
  if (names && names.length !== k)
    throw bad(
      '--class-names',
      `${names.length} names for ${k} classes`,
      'give one name per probability column',
    );
  const votes = neuronVotes(rows, neurons).map((v) => ({
    ...v,
    class: names ? names[v.classIndex] : v.classIndex,
  }));
  step(`${votes.length} neurons from ${n} synapses`);
  await writeJson(opts.output, { task: 'synister', neurons: votes }, opts.overwrite === true);
  io.out(`wrote ${opts.output}: ${votes.length} neurons\n`);
}

async function micron(io: Io, opts: PostprocessOpts, maxVoxels: number, step: (m: string) => void) {
  const threshold = number(opts.threshold, '--threshold', (t) => t >= 0 && t <= 1, 'a number in [0, 1]');
  const maxEdge = number(opts.maxEdgeNm, '--max-edge-nm', (t) => t > 0, 'a positive number');
  const startPrior = number(opts.startPrior, '--start-prior', () => true, 'a number');
  const selectionCost = number(opts.selectionCost, '--selection-cost', () => true, 'a number');
  const timeLimit = number(opts.timeLimit, '--time-limit', (t) => t > 0, 'a positive number');
  const window = opts.nmsWindow.split(',').map(Number);
  if (window.length !== 3 || !window.every((w) => Number.isInteger(w) && w > 0)) {
    throw bad(
      '--nms-window',
      `'${opts.nmsWindow}' is not three positive integers`,
      'e.g. --nms-window 1,10,10',
    );
  }
  const p = await openPrediction(opts.input, maxVoxels);
  const [k] = pickChannels(p, list(opts.channels)?.slice(0, 1), (n) => n === 'soft_mask', 'soft_mask');
  const [, z, y, x] = p.vol.shape as [number, number, number, number];
  step(`reading the soft mask of [${z},${y},${x}]`);
  const soft = { shape: [z, y, x] as [number, number, number], data: await readChannels(p, [k as number]) };
  const candidates = nmsCandidates(soft, { window: window as [number, number, number], threshold });
  const graph = candidateGraph(soft, candidates, {
    voxelSize: p.voxelSize,
    offset: p.offset,
    maxDistance: maxEdge,
  });
  step(`${candidates.length} candidates, ${graph.edges.length} edges; solving the track ILP`);
  const selected = await solveTracks(graph, { startPrior, selectionCost, timeLimit });
  const tracks = tracksFromEdges(graph, selected);
  step(`${tracks.length} tracks from ${selected.length} edges`);
  await writeJson(
    opts.output,
    {
      task: 'micron',
      units: 'nm',
      candidates: graph.nm,
      tracks,
      settings: {
        threshold,
        nms_window: window,
        max_edge_nm: maxEdge,
        evidence_factor: MICRON_COSTS.evidenceFactor,
        angle_factor: MICRON_COSTS.angleFactor,
        start_prior: startPrior,
        selection_cost: selectionCost,
        time_limit_s: timeLimit,
      },
    },
    opts.overwrite === true,
  );
  io.out(`wrote ${opts.output}: ${tracks.length} tracks from ${candidates.length} candidates\n`);
}

/** True partners: a JSON list of {post, pre} (nm, z y x), or an object with such a `partners` list. */
function readTruePartners(path: string): PartnerPair[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw bad('--gt', `cannot read '${path}' as JSON: ${(cause as Error).message}`, 'pass a .json file');
  }
  const list = Array.isArray(json) ? json : (json as { partners?: unknown }).partners;
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number');
  if (!Array.isArray(list) || !list.every((p) => triple(p?.post) && triple(p?.pre))) {
    throw bad(
      '--gt',
      `'${path}' is not a list of {post: [z,y,x], pre: [z,y,x]}`,
      'the partners JSON this command writes is accepted as is',
    );
  }
  return list as PartnerPair[];
}
