/** exporters/: bundle → bioimage.io zip, and the checks around it. The public entry. */
export { BUNDLE_FILES, type Bundle, readBundle } from './bundle-read.js';
export { channelMeaning, unboundedChannels } from './channel-meaning.js';
export { coverChannels, renderCover } from './cover-png.js';
export { ExportError, type ExportErrorTag, isExportError } from './errors.js';
export { type CheckResult, type ModelTestResult, testModelZip } from './model-test.js';
export { encodeNpy, type Float32Nd, parseNpy } from './npy.js';
export { defaultOpset, inspectOnnx, type OnnxInfo, type OnnxTensorInfo } from './onnx-inspect.js';
export {
  type PackageOptions,
  type PackageResult,
  packageBundle,
  verifyBundleHashes,
} from './package-bundle.js';
export { PROFILES, type Profile, parseProfiles } from './profiles.js';
export { CONSUMER_OF, validateWithProfiles } from './rdf-validate.js';
export { parseRdfYaml, rdfToYaml } from './rdf-yaml.js';
export { reproduceTestOutput } from './reproduce.js';
export { tensorToTiff } from './sample-tiff.js';
export { encodeTiff, type TiffStack } from './tiff-write.js';
export { readZip, type ZipContents } from './zip-read.js';
export { writeZip, type ZipEntry } from './zip-write.js';
