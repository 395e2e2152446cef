/**
 * spec/: the bioimage.io model description (format 0.5; 0.4 read and converted) as TypeScript
 * types, the official JSON schema (generated from bioimageio.spec), semantic checks and consumer
 * rules for ilastik and deepImageJ. The only public entry; imports nothing else of ours.
 */

export type {
  AnyAxis,
  AnySize,
  AxisType,
  BatchAxis,
  ChannelAxis,
  DataDependentSize,
  IndexAxis,
  InputAxis,
  InputSize,
  OutputAxis,
  OutputSize,
  ParameterizedSize,
  SizeReference,
  SpaceAxis,
  TimeAxis,
} from './axes.js';
export {
  axisHalo,
  axisId,
  axisScale,
  axisSize,
  axisUnit,
  isDataDependentSize,
  isParameterizedSize,
  isSizeReference,
} from './axes.js';
export { checkDeepImageJ, type DeepImageJContext, JDLL_MAX_ONNX_OPSET } from './consumers/deepimagej.js';
export { checkIlastik } from './consumers/ilastik.js';
export { checkWriteProfile, newerThan054 } from './consumers/newer-fields.js';
export {
  type Issue,
  type IssueCode,
  isSpecError,
  pointer,
  type Severity,
  SpecError,
  type SpecErrorTag,
} from './errors.js';
export {
  type FileSource,
  findRdfName,
  folderSource,
  memorySource,
  RDF_NAMES,
  zipSource,
} from './file-source.js';
export { type ImageDims, imageDims } from './image-dims.js';
export {
  type Author,
  BIOIMAGEIO_SPEC_VERSION,
  type CiteEntry,
  type Maintainer,
  type ModelDescr,
  SCHEMA_FORMAT_VERSION_0_4,
  SCHEMA_FORMAT_VERSION_0_5,
  WRITE_FORMAT_VERSION,
} from './model.js';
export { type NpyDtype, type NpyHeader, npyStats, parseNpyHeader, readNpyValues } from './npy.js';
export { defaultOpset, type OpsetImport, readOnnxOpsets } from './onnx-opset.js';
export {
  type ParsedDescription,
  parseModelDescription,
  parseModelDescriptionYaml,
  parseYaml,
} from './parse.js';
export type { PostprocessingStep, PreprocessingStep, ProcessingId } from './processing.js';
export { JDLL_PROCESSING_IDS } from './processing.js';
export { type Consumer, formatReportText, type ValidationReport } from './report.js';
export { validateSchema } from './schema-validate.js';
export { sha256Hex } from './semantic/file-checks.js';
export { staticChecks } from './semantic/static-checks.js';
export { checkTestTensors } from './semantic/test-tensors.js';
export type { AnyTensor, DataType, FileDescr, InputTensor, OutputTensor, TensorData } from './tensors.js';
export { inputId, outputId, tensorDtype } from './tensors.js';
export { type ValidateOptions, type ValidationResult, validatePackage } from './validate.js';
export type {
  AnyWeightsEntry,
  OnnxWeights,
  PytorchStateDictWeights,
  TorchscriptWeights,
  Weights,
  WeightsFormat,
} from './weights.js';
export { presentWeights, WEIGHTS_FORMATS } from './weights.js';
