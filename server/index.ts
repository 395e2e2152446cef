/** server/: the HTTP API (catalog, KServe v2 inference, .npy predict, volume jobs, metrics). The public entry. */
export { buildApp, type RunningServer, startServer } from './app.js';
export {
  CONFIG_KEYS,
  type ConfigInput,
  configFromEnv,
  configFromFile,
  defaultConfig,
  resolveConfig,
  type ServerConfig,
} from './config.js';
export { isServeError, ServeError, type ServeErrorTag } from './errors.js';
export { type ErrorBody, SERVE_STATUS, toHttpError } from './http-errors.js';
export { jsonLogger, type Logger } from './logger.js';
export { openApiDocument } from './openapi.js';
export { confine, MODEL_ID } from './paths.js';
export { checkVolumeInput, runVolume, type VolumeRunOptions } from './volume-run.js';
export { findVoxelSize, type VoxelSize, voxelSizeFromAttrs } from './voxel-size.js';
export { parseRoi, parseTriple, parseZarrLocation, type Roi, type ZarrLocation } from './zarr-args.js';
