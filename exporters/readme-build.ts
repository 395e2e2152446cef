/** README.md (the RDF's documentation): what the model predicts and how to use it in ilastik and Fiji. */
import type { Bundle } from './bundle-read.js';
import { channelMeaning } from './channel-meaning.js';
import type { Profile } from './profiles.js';
import type { Reproduction } from './reproduce.js';

const WHAT: Record<Bundle['task'], string> = {
  lsd: 'affinities between neighbouring voxels (and, for MTLSD variants, local shape descriptors) for neuron segmentation',
  synful:
    'synaptic partners: a post-synaptic mask and, per voxel, a vector pointing to the pre-synaptic site',
  synister: 'the neurotransmitter of a synapse, as class probabilities for a cube centred on the synapse',
  micron: 'microtubules: a soft mask and shape derivatives from which microtubule tracks are extracted',
};

const POST: Record<Bundle['task'], string> = {
  lsd: 'Threshold-free: run a seeded watershed on the mean of the affinity channels (or a mutex watershed with the offsets in `config.mws.offsets`), then agglomerate fragments by mean affinity (waterz-style) and pick a merge threshold on a proofread crop.',
  synful:
    'Threshold the post-synaptic mask (about 0.5), take connected components or local maxima as post-synaptic sites, and add the predicted vector (in nm) at each site to find its pre-synaptic partner.',
  synister:
    'Take the arg-max class per synapse; for a neuron, combine its synapses by majority vote (or by summing log-probabilities).',
  micron:
    'Threshold the soft mask, extract candidate points by non-maximum suppression, then link them into tracks (the original solves an ILP over candidate edges).',
};

const fmt = (v: number): string =>
  v === 0 ? '0' : Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)));

export function buildReadme(b: Bundle, r: Reproduction, profiles: readonly Profile[]): string {
  const [vz, vy, vx] = b.input.voxel_size_nm;
  const dense = b.output.kind === 'dense';
  const channelRows = b.output.channel_names.map(
    (n, i) => `| ${i} | \`${n}\` | ${channelMeaning(n, i, b.output.semantics, b.output.kind)} |`,
  );
  const sizes = ['z', 'y', 'x']
    .map((a, i) =>
      b.input.valid_size.step[i] === 0
        ? `${a} = ${b.input.valid_size.min[i]}`
        : `${a} = ${b.input.valid_size.min[i]} + k·${b.input.valid_size.step[i]}`,
    )
    .join(', ');
  const rt = (['onnx', 'torchscript', 'state_dict'] as const).map(
    (k) => `| ${k} vs PyTorch (at export) | ${fmt(b.roundtrip[k].max_abs)} |`,
  );
  const sizeRows = b.roundtrip.sizes.map(
    (s) =>
      `| batch ${s.batch}, k = ${s.k}: onnx / torchscript vs PyTorch (at export) | ${fmt(s.onnx_max_abs)} / ${fmt(s.torchscript_max_abs)} |`,
  );
  const lines = [
    `# ${b.name}`,
    '',
    b.description,
    '',
    `This model predicts ${WHAT[b.task]}. Task \`${b.task}\`, variant \`${b.variant}\`, bundle \`${b.id}\`.`,
    b.trained
      ? ''
      : '\n> **Untrained weights.** This package is a demonstration of the format; its predictions are meaningless.\n',
    '## Input',
    '',
    `- One channel of raw EM intensities in the uint8 range 0–255, axes b, c, z, y, x.`,
    `- Expected voxel size: **${vz} × ${vy} × ${vx} nm** (z, y, x). Resample other data to this resolution first.`,
    `- Valid input sizes: ${sizes}.`,
    `- Preprocessing (declared in rdf.yaml, applied by the consumer): \`scale_linear\` with gain ${fmt(b.input.preprocessing.gain)} and offset ${fmt(b.input.preprocessing.offset)} (uint8 → [-1, 1]).`,
    '',
    '## Output',
    '',
    dense
      ? r.outputShape.slice(2).join() === r.inputShape.slice(2).join()
        ? `Dense maps with axes b, c, z, y, x, at the input's size. The network uses valid convolutions; the packaged weights pad its output back to the input size with zeros, so the outer ${(b.output.halo ?? [0, 0, 0]).join(' × ')} voxels (z, y, x) on each side are invalid. They are declared as the output \`halo\`, which ilastik and bioimageio.core crop (and overlap) when they tile a volume.`
        : `Dense maps with axes b, c, z, y, x. The network uses valid convolutions: the output covers the input minus ${(b.output.halo ?? [0, 0, 0]).join(' × ')} voxels (z, y, x) on each side.`
      : 'One probability per class, axes b, c (no spatial axes).',
    '',
    '| channel | name | meaning |',
    '|---|---|---|',
    ...channelRows,
    '',
    '## Use in ilastik',
    '',
    profiles.includes('ilastik')
      ? [
          '1. Open ilastik 1.4.1 or newer and start the **Neural Network Classification (Local)** workflow.',
          '2. Add your raw EM volume (3D, one channel) under *Input Data*.',
          '3. In *NN Prediction*, load this zip (the dialog accepts a local `.zip`); ilastik runs the TorchScript weights through tiktorch.',
          `4. Press *Live Predict*: the ${b.output.channel_names.length} output channels appear as prediction layers; export them under *Export Data*.`,
        ].join('\n')
      : 'Not supported: ilastik shows dense per-voxel maps and needs at least two spatial output axes; this model outputs one value per class.',
    '',
    '## Use in Fiji (deepImageJ, then LabKit)',
    '',
    profiles.includes('fiji')
      ? [
          '1. In Fiji, install deepImageJ 3 (update site *DeepImageJ*), then *Plugins › DeepImageJ › DeepImageJ Install Model* and choose this zip.',
          dense
            ? '2. Open your raw volume as a 3D stack at the voxel size above, then *DeepImageJ Run* with this model (the ONNX weights; deepImageJ tiles large stacks). The *Test* button runs the bundled test tensor.'
            : `2. Crop a cube of exactly ${b.input.valid_size.min.join(' × ')} voxels (z, y, x) centred on the synapse, at the voxel size above, then *DeepImageJ Run* with this model (the ONNX weights; no tiling). The *Test* button runs the bundled test tensor.`,
          dense
            ? `3. LabKit cannot run deep-learning models itself: combine the raw stack and the predicted maps into one multi-channel image (*Image › Color › Merge Channels*), open it with *Plugins › Labkit › Open Current Image With Labkit*, draw a few labels and train its random forest, which uses the probability maps as strong features. Or threshold one channel and import it as a labeling for proofreading.`
            : '3. The output is one probability per class for the input cube; read it from the results table.',
          '',
          'Macro: `run("DeepImageJ Run", "modelPath=<installed folder> inputPath=<stack.tif> outputFolder=<dir> displayOutput=all");`',
        ].join('\n')
      : 'Not packaged for Fiji (no sample TIFFs); ask for `--for fiji`.',
    '',
    '## Recommended post-processing',
    '',
    POST[b.task],
    '',
    '# Validation',
    '',
    `Before this zip was written, the packaged ONNX model was run with onnxruntime (Node) on \`test_input.npy\` with the declared preprocessing and compared with \`test_output.npy\` (computed by PyTorch at export).`,
    '',
    '| check | max abs error |',
    '|---|---|',
    ...rt,
    ...sizeRows,
    `| onnxruntime-node vs test_output.npy (at packaging) | ${fmt(r.maxAbsError)} (limit ${fmt(r.atol)} + ${r.rtol}·|e|) |`,
    '',
    `Test input shape ${r.inputShape.join(' × ')}, output shape ${r.outputShape.join(' × ')}, output range [${fmt(r.outputRange[0])}, ${fmt(r.outputRange[1])}].`,
    ...trainingLines(b.training),
    '',
    '## Citations',
    '',
    ...b.citations.map(
      (c) =>
        `- ${c.text.replace(/\.$/, '')}. ${c.doi !== undefined ? `https://doi.org/${c.doi}` : (c.url ?? '')}`,
    ),
    '',
    `License: ${b.license}.`,
    '',
  ];
  return lines.join('\n');
}

/** Held-out quality of trained weights, as a table, then the whole record for provenance. */
function trainingLines(training: Record<string, unknown> | null): string[] {
  if (training === null) return [];
  const out: string[] = [''];
  const metrics = training.held_out_metrics;
  const data = training.data as { held_out?: unknown } | undefined;
  if (metrics !== null && typeof metrics === 'object' && Object.keys(metrics).length > 0) {
    const on = typeof data?.held_out === 'string' ? ` on ${data.held_out}` : '';
    out.push(`Held-out metrics${on} (\`emzoo evaluate\`; never seen in training):`, '');
    out.push('| metric | value |', '|---|---|');
    for (const [k, v] of Object.entries(metrics)) {
      if (typeof v === 'number') out.push(`| ${k} | ${Number.isInteger(v) ? v : v.toPrecision(4)} |`);
    }
    const post = training.postprocessing;
    if (post !== null && typeof post === 'object' && Object.keys(post).length > 0) {
      const settings = Object.entries(post)
        .map(([k, v]) => `${k} = ${String(v)}`)
        .join(', ');
      out.push('', `Post-processing settings chosen on the training volume: ${settings}.`);
    }
    out.push('');
  }
  out.push(`Training record: \`${JSON.stringify(training)}\``);
  return out;
}
