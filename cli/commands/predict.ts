/**
 * `predict`: a model over a zarr volume, block by block, into an OME-Zarr v3 output; re-running
 * the same command after an interruption resumes from the blocks already written.
 */
import { Command } from 'commander';
import { loadBackend } from '../../runtime/index.js';
import { checkVolumeInput, parseRoi, parseTriple, parseZarrLocation, runVolume } from '../../server/index.js';
import { DEFAULT_WEIGHTS } from '../bundles.js';
import type { Io } from '../io.js';
import { asCliError } from './cli-errors.js';
import { loadModelSource } from './model-source.js';
import { predictQueued } from './predict-queue.js';
import { formatDuration, progressBar } from './progress-bar.js';

interface PredictOpts {
  model: string;
  input: string;
  output: string;
  roi?: string;
  block?: string;
  threads: string;
  uint8?: boolean;
  memoryMb: string;
  weights: string;
  ignoreVoxelSize?: boolean;
  quiet?: boolean;
  queue?: string;
}

/**
 * What the predict process holds besides its blocks: node, tsx, zarrita, onnxruntime and one
 * session per worker thread. Measured as the max RSS intercept of `predict` runs over block sizes
 * (bench/inference/predict-memory.ts): 271 MB with 2 workers; a bare node + onnxruntime session is
 * ~110 MB.
 */
const processBaseBytes = (workers: number) => (170 + 50 * workers) * 2 ** 20;

const positiveInt = (v: string, flag: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got '${v}'`);
  return n;
};

export function predictCommand(io: Io): Command {
  return new Command('predict')
    .description('run a model over a zarr volume (tiled, resumable) into an OME-Zarr v3 output')
    .requiredOption('-m, --model <model>', 'model id (in --weights), bundle folder, or bioimage.io zip')
    .requiredOption(
      '-i, --input <zarr>',
      'input zarr, optionally with the array path: raw.zarr[/volumes/raw]',
    )
    .requiredOption(
      '-o, --output <zarr>',
      'output zarr (v3, OME-Zarr), optionally with a group path: out.zarr[/affs]',
    )
    .option('--roi <z0:z1,y0:y1,x0:x1>', 'only this region (voxels, end exclusive)')
    .option(
      '--block <Z,Y,X>',
      'block input size (a valid model input size; default: largest within --memory-mb)',
    )
    .option('--threads <n>', 'onnxruntime worker threads', '1')
    .option('--uint8', 'store outputs as uint8 (value·255) instead of float32')
    .option(
      '--memory-mb <n>',
      'peak memory of the run (process included): blocks are sized to fit (ignored by --block)',
      '1024',
    )
    .option('--weights <dir>', 'folder of bundles for model ids', DEFAULT_WEIGHTS)
    .option('--ignore-voxel-size', "run even if the input's voxel size differs from the model's")
    .option('-q, --quiet', 'no progress on stderr')
    .option(
      '--queue <redis-url>',
      'queue the blocks in Redis for `bioimage-export worker`s and wait for them',
    )
    .addHelpText(
      'after',
      `
Checks before any block runs: the input's axes ([z,y,x] or [c,z,y,x]), dtype, and voxel size
(OME-Zarr scale or gunpowder 'resolution' attribute) against the model's. The output holds
[channels, z, y, x] with the model's channel names and the input's voxel size and offset.
With --roi, the context (halo) around the ROI is read from the input where the volume has it;
only the volume's own border is padded, so the output equals that region of a whole-volume run
(exactly when the ROI starts on multiples of the model's step).
Interrupted runs resume: run the same command again (the done log is <output>.done.jsonl).

Example:
  $ bioimage-export predict --model lsd-small-mtlsd --input sample.zarr/volumes/raw --output affs.zarr --uint8`,
    )
    .action(async (opts: PredictOpts) => {
      try {
        await predict(io, opts);
      } catch (err) {
        throw asCliError(err);
      }
    });
}

async function predict(io: Io, opts: PredictOpts): Promise<void> {
  const src = loadModelSource(opts.model, opts.weights);
  const workers = positiveInt(opts.threads, '--threads');
  const memory = positiveInt(opts.memoryMb, '--memory-mb');
  const blocksBytes = memory * 2 ** 20 - processBaseBytes(workers);
  if (blocksBytes <= 0 && opts.block === undefined) {
    throw new Error(
      `--memory-mb ${memory} is below what the process itself needs with ${workers} worker(s) (~${Math.ceil(processBaseBytes(workers) / 2 ** 20)} MB); raise --memory-mb`,
    );
  }
  const roi = opts.roi === undefined ? undefined : parseRoi(opts.roi);
  const block = opts.block === undefined ? undefined : parseTriple(opts.block, '--block');
  const input = parseZarrLocation(opts.input);
  const ignoreVoxelSize = opts.ignoreVoxelSize === true;
  // Input checks first: a wrong voxel size should not wait for the model to load.
  const checked = await checkVolumeInput({
    modelId: src.id,
    bundle: src.model,
    input,
    roi,
    block,
    ignoreVoxelSize,
    outputDtype: opts.uint8 ? 'uint8' : 'float32',
    onNote: (n) => io.err(`note: ${n}\n`),
  });
  if (opts.queue !== undefined) {
    return predictQueued(io, {
      url: opts.queue,
      src,
      input,
      output: parseZarrLocation(opts.output),
      roi,
      block,
      uint8: opts.uint8 === true,
      memoryBytes: memory * 2 ** 20,
      voxelNm: checked.found?.nm,
      quiet: opts.quiet === true,
    });
  }
  const backend = await loadBackend(`${src.model.dir}/${src.model.weights.onnx.file}`, { workers });
  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = progressBar(io.err, process.stderr.isTTY === true, opts.quiet === true);
  try {
    const r = await runVolume({
      modelId: src.id,
      bundle: src.model,
      backend,
      input,
      output: parseZarrLocation(opts.output),
      roi,
      block,
      outputDtype: opts.uint8 ? 'uint8' : 'float32',
      memoryBudgetBytes: Math.max(blocksBytes, 2 ** 20),
      // One block in flight per worker: each prefetches its next read while it computes.
      maxInFlight: workers,
      ignoreVoxelSize,
      signal: ctrl.signal,
      onProgress: (p) => bar.update(p),
    });
    bar.end();
    io.out(
      `wrote ${r.output}: ${r.plan.blockCount} blocks of [${r.plan.blockInput}] (${r.processed} computed, ${r.skipped} resumed) in ${formatDuration(r.elapsedMs)}\n`,
    );
  } finally {
    bar.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await backend.dispose();
  }
}
