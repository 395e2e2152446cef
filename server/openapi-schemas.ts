/** JSON Schemas (2020-12) of the API's bodies: components.schemas of openapi.json. */
export const int = { type: 'integer' };
const nums = { type: 'array', items: { type: 'number' } };
export const ints = { type: 'array', items: int };
const v2Tensor = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string' },
    shape: ints,
    data: { type: 'array' },
    parameters: { type: 'object' },
  },
};

export const schemas = {
  Error: {
    type: 'object',
    required: ['code', 'message', 'hint', 'error'],
    additionalProperties: false,
    properties: {
      code: { type: 'string' },
      message: { type: 'string' },
      hint: { type: 'string' },
      error: { type: 'string', description: 'same as message (the field KServe v2 clients read)' },
    },
  },
  ModelFacts: {
    type: 'object',
    required: ['id', 'name', 'description', 'task', 'variant', 'trained', 'license', 'input', 'output'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      task: { type: 'string' },
      variant: { type: 'string' },
      trained: { type: 'boolean' },
      license: { type: 'string' },
      input: {
        type: 'object',
        required: ['name', 'channels', 'voxelSizeNm', 'validSize', 'preprocessing'],
        properties: {
          name: { type: 'string' },
          channels: { type: 'array', items: { type: 'string' } },
          voxelSizeNm: nums,
          validSize: { type: 'object', required: ['min', 'step'], properties: { min: ints, step: ints } },
          preprocessing: { type: 'object', required: ['kind', 'gain', 'offset'] },
        },
      },
      output: {
        type: 'object',
        required: ['name', 'kind', 'channels', 'halo'],
        properties: {
          name: { type: 'string' },
          kind: { enum: ['dense', 'classes'] },
          channels: { type: 'array', items: { type: 'string' } },
          halo: { oneOf: [ints, { type: 'null' }] },
        },
      },
    },
  },
  Job: {
    type: 'object',
    additionalProperties: false,
    required: [
      'id',
      'model',
      'input',
      'output',
      'roi',
      'block',
      'outputDtype',
      'state',
      'blocksDone',
      'blocksTotal',
      'etaSeconds',
      'attempts',
      'createdAt',
      'startedAt',
      'finishedAt',
      'error',
    ],
    properties: {
      id: { type: 'string', format: 'uuid' },
      model: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      roi: { type: ['string', 'null'] },
      block: { oneOf: [ints, { type: 'null' }] },
      outputDtype: { enum: ['float32', 'uint8'] },
      state: { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
      blocksDone: int,
      blocksTotal: { type: ['integer', 'null'] },
      etaSeconds: { type: ['number', 'null'] },
      attempts: int,
      createdAt: { type: 'string' },
      startedAt: { type: ['string', 'null'] },
      finishedAt: { type: ['string', 'null'] },
      error: {
        oneOf: [{ type: 'null' }, { type: 'object', required: ['code', 'message', 'hint'] }],
      },
    },
  },
  JobSubmit: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'input', 'output'],
    properties: {
      model: { type: 'string' },
      input: { type: 'string', description: 'zarr path under the data root, e.g. raw.zarr/volumes/raw' },
      output: { type: 'string', description: 'new OME-Zarr v3 path under the data root' },
      roi: { type: 'string', description: 'z0:z1,y0:y1,x0:x1 in voxels, end exclusive' },
      block: {
        ...ints,
        minItems: 3,
        maxItems: 3,
        description: 'block input size (a valid model input size)',
      },
      outputDtype: { enum: ['float32', 'uint8'] },
    },
  },
  V2ModelMetadata: {
    type: 'object',
    required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: v2Tensor },
      outputs: { type: 'array', items: v2Tensor },
    },
  },
  V2InferRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: {
        type: 'object',
        properties: {
          output_mode: { enum: ['valid', 'zero', 'reflect', 'edge'] },
          output_datatype: { enum: ['FP32', 'FP16', 'UINT8'] },
          preprocessing: { type: 'boolean' },
          binary_data_output: { type: 'boolean' },
        },
      },
      inputs: { type: 'array', items: v2Tensor },
      outputs: { type: 'array', items: { type: 'object', required: ['name'] } },
    },
  },
  SystemSharedMemoryStatus: {
    type: 'array',
    description: "Triton's $system_shared_memory_status_response: one entry per registered region",
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'key', 'offset', 'byte_size'],
      properties: {
        name: { type: 'string' },
        key: { type: 'string', description: 'POSIX shm key: /name is the file <shmDir>/name' },
        offset: { ...int, minimum: 0 },
        byte_size: { ...int, minimum: 1 },
      },
    },
  },
  SystemSharedMemoryRegister: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'byte_size'],
    properties: {
      key: { type: 'string', pattern: '^/?[A-Za-z0-9][A-Za-z0-9._-]{0,200}$' },
      offset: { ...int, minimum: 0, default: 0 },
      byte_size: { ...int, minimum: 1 },
    },
  },
  V2InferResponse: {
    type: 'object',
    required: ['model_name', 'outputs'],
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      outputs: { type: 'array', items: v2Tensor },
    },
  },
};
