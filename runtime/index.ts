/**
 * runtime/: run an ONNX model on a tensor or over a volume of any size.
 *
 * ```ts
 * import { loadBackend, runBlockwise } from '../runtime/index.js';
 * const backend = await loadBackend('weights/lsd-small/model.onnx', { workers: 2 });
 * await runBlockwise({
 *   backend, input: 'raw.zarr', output: 'affs.zarr', outputDtype: 'uint8',
 *   geometry: { minInput: [18, 18, 18], step: [2, 2, 2], halo: [8, 8, 8], inputChannels: 1, outputChannels: 3 },
 *   memoryBudgetBytes: 2 ** 30, normalization: { kind: 'scale_linear', gain: 1 / 255, offset: 0 },
 *   ome: { voxelSize: [8, 8, 8] }, onProgress: (p) => console.log(p.done, '/', p.total),
 * });
 * await backend.dispose();
 * ```
 * @module
 */
export { loadBackend } from './backend/load-backend.js';
export { OrtBackend } from './backend/ort-backend.js';
export { OrtPoolBackend } from './backend/ort-pool-backend.js';
export type { BackendOptions, Device, InferenceBackend, RunOptions, TensorInfo } from './backend/types.js';
export {
  AbortedError,
  BackendDisposedError,
  InferenceError,
  InvalidNpyError,
  InvalidTilingError,
  isRuntimeError,
  ModelLoadError,
  ProviderUnavailableError,
  ResumeMismatchError,
  type RuntimeError,
  type RuntimeErrorTag,
  ShapeMismatchError,
  UnsupportedDtypeError,
  VolumeError,
} from './errors.js';
export type { Progress } from './executor/block-loop.js';
export { type BlockSource, LocalBlockSource } from './executor/block-source.js';
export {
  type BlockwiseJobOptions,
  type BlockwiseJobResult,
  startBlockwiseJob,
} from './executor/blockwise-job.js';
export { DoneLog } from './executor/done-log.js';
export { type PredictArrayOptions, predictArray } from './executor/predict-array.js';
export { type BlockwiseOptions, type BlockwiseResult, runBlockwise } from './executor/run-blockwise.js';
export { cropConvert, fromHalfBits, type OutputShaping, toHalfBits } from './tensors/crop-convert.js';
export { DTYPES, type DType, type TypedArrayOf } from './tensors/dtype.js';
export { type NdArray, ndarray, sizeOf, stridesOf } from './tensors/ndarray.js';
export { parseNpy, readNpy } from './tensors/npy-read.js';
export { encodeNpy, writeNpy } from './tensors/npy-write.js';
export { checkGeometry, isValidInput, type ModelGeometry } from './tiling/geometry.js';
export { type LinearMap, type Normalization, resolveNormalization } from './tiling/normalize.js';
export { type PadMode, readPadded } from './tiling/padding.js';
export { type Block, blockBytes, planTiles, type TilePlan, type TilingOptions } from './tiling/plan.js';
export { arrayVolume } from './volumes/array-volume.js';
export {
  type Compressor,
  type CreateVolumeOptions,
  createVolume,
  type OutputDType,
  openVolumeWriter,
  type VolumeWriter,
} from './volumes/create-volume.js';
export { type OmeImageOptions, omeImageAttributes } from './volumes/ome.js';
export { type OpenVolumeOptions, openVolume, type Volume } from './volumes/open-volume.js';
export type { Region } from './volumes/region.js';
