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
export {
  checkVolumeInput,
  findVoxelSize,
  parseRoi,
  parseTriple,
  parseZarrLocation,
  type Roi,
  runVolume,
  type VolumeRunOptions,
  voxelSizeFromAttrs,
  type ZarrLocation,
} from './volume-run.js';
