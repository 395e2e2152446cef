/** The OpenAPI 3.1 description of every route (served at /openapi.json; tests validate responses against it). */
import { int, schemas } from './openapi-schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const err = (description: string) => ({ description, ...json(ref('Error')) });
const ok = (description: string, schema: unknown) => ({ description, ...json(schema) });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ERRORS = {
  '400': err('bad input (malformed body, wrong shape/dtype/size, bad argument)'),
  '404': err('unknown model or job'),
  '413': err('body over the size limit'),
  '429': err('too many requests in flight (see Retry-After)'),
  '503': err('not ready, or timed out (see Retry-After)'),
};
const AUTH = {
  '401': err('no bearer token'),
  '403': err('wrong bearer token, or a path outside the data root'),
};

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const SHM_DISABLED = {
  '501': err('the system shared-memory extension is off (start the server with --shared-memory system)'),
};
const shmNote =
  "Triton's system shared-memory extension (opt-in: --shared-memory system). Register and unregister need the bearer token when one is set";
const done = (description: string) => ({ description: `${description} (empty body, as Triton)` });

const binaryNote =
  'JSON, or with the binary tensor data extension: header Inference-Header-Content-Length = length of the JSON part, raw little-endian tensor bytes after it';
const inferParamsNote =
  "parameters.output_mode: valid (default, output = input − 2·halo) | zero | reflect | edge (output = input size). parameters.output_datatype (dense models): FP32 (default) | FP16 (nearest half float, half the bytes) | UINT8 (value·255 rounded and clamped, a quarter of the bytes; only for models whose channels all lie in [0, 1], 400 otherwise). parameters.preprocessing: true (default: raw intensities; the bundle's scale_linear is applied) | false. System shared memory (when enabled): an input or requested output with parameters shared_memory_region + shared_memory_byte_size (+ shared_memory_offset) is read from / written into that registered region; the response's output then carries those parameters and no data. 501 when the extension is off.";

export const openApiDocument = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  info: {
    title: 'emzoo inference server',
    version: '0.1.0',
    description:
      'Model catalog, KServe v2 inference (binary tensor and, opt-in, system shared-memory extensions), .npy prediction and volume jobs for emzoo bundles.',
  },
  components: {
    schemas,
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  },
  paths: {
    '/health/live': {
      get: {
        summary: 'liveness',
        responses: {
          '200': ok('alive', { type: 'object', required: ['live'], properties: { live: { const: true } } }),
        },
      },
    },
    '/health/ready': {
      get: {
        summary: 'readiness',
        responses: {
          '200': ok('ready', {
            type: 'object',
            required: ['ready', 'models'],
            properties: { ready: { const: true }, models: int },
          }),
          '503': ERRORS['503'],
        },
      },
    },
    '/v2/health/live': {
      get: {
        summary: 'KServe liveness',
        responses: { '200': ok('alive', { type: 'object', required: ['live'] }) },
      },
    },
    '/v2/health/ready': {
      get: {
        summary: 'KServe readiness',
        responses: { '200': ok('ready', { type: 'object', required: ['ready'] }), '503': ERRORS['503'] },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: {
          '200': {
            description: 'text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'this document',
        responses: { '200': ok('OpenAPI 3.1', { type: 'object', required: ['openapi', 'paths'] }) },
      },
    },
    '/models': {
      get: {
        summary: 'the catalog',
        responses: {
          '200': ok('models', {
            type: 'object',
            required: ['models'],
            properties: {
              models: {
                type: 'array',
                items: { type: 'object', required: ['id', 'name', 'task', 'variant', 'trained'] },
              },
            },
          }),
        },
      },
    },
    '/models/{id}': {
      get: {
        summary: 'bundle facts',
        parameters: [idParam],
        responses: { '200': ok('facts', ref('ModelFacts')), '404': ERRORS['404'] },
      },
    },
    '/models/{id}/rdf.yaml': {
      get: {
        summary: 'bioimage.io rdf.yaml',
        parameters: [idParam],
        responses: {
          '200': { description: 'rdf.yaml', content: { 'application/yaml': { schema: { type: 'string' } } } },
          '404': ERRORS['404'],
        },
      },
    },
    '/models/{id}/download': {
      get: {
        summary: 'bioimage.io zip for ilastik / Fiji (built once, cached; ETag + If-None-Match)',
        parameters: [
          idParam,
          {
            name: 'for',
            in: 'query',
            schema: { type: 'string', examples: ['ilastik', 'fiji', 'ilastik,fiji'] },
          },
        ],
        responses: {
          '200': {
            description: 'zip',
            content: {
              'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } },
            },
          },
          '304': { description: 'not modified' },
          '400': ERRORS['400'],
          '404': ERRORS['404'],
        },
      },
    },
    '/v2': {
      get: {
        summary: 'KServe server metadata',
        responses: {
          '200': ok('server', {
            type: 'object',
            required: ['name', 'version', 'extensions'],
            properties: { extensions: { type: 'array', items: { type: 'string' } } },
          }),
        },
      },
    },
    '/v2/models/{id}': {
      get: {
        summary: 'KServe model metadata',
        parameters: [idParam],
        responses: { '200': ok('metadata', ref('V2ModelMetadata')), '404': ERRORS['404'] },
      },
    },
    '/v2/models/{id}/versions/{v}': {
      get: {
        summary: 'KServe model metadata (version 1)',
        parameters: [idParam, { name: 'v', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('metadata', ref('V2ModelMetadata')), '404': ERRORS['404'] },
      },
    },
    '/v2/models/{id}/ready': {
      get: {
        summary: 'KServe model readiness',
        parameters: [idParam],
        responses: {
          '200': ok('ready', { type: 'object', required: ['name', 'ready'] }),
          '404': ERRORS['404'],
          '503': ERRORS['503'],
        },
      },
    },
    '/v2/models/{id}/infer': {
      post: {
        summary: 'KServe v2 inference; inputs of any size are tiled server-side',
        description: `${binaryNote}. ${inferParamsNote}`,
        parameters: [idParam],
        requestBody: {
          content: {
            'application/json': { schema: ref('V2InferRequest') },
            'application/octet-stream': {
              schema: { type: 'string', contentMediaType: 'application/octet-stream' },
            },
          },
        },
        responses: {
          '200': {
            description: `${binaryNote}`,
            content: {
              'application/json': { schema: ref('V2InferResponse') },
              'application/octet-stream': { schema: { type: 'string' } },
            },
          },
          ...ERRORS,
          ...SHM_DISABLED,
          ...AUTH, // only for requests that use shared memory, when the server has a token
        },
      },
    },
    '/v2/models/{id}/versions/{v}/ready': {
      get: {
        summary: 'KServe model readiness',
        parameters: [idParam, { name: 'v', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': ok('ready', { type: 'object', required: ['name', 'ready'] }),
          '404': ERRORS['404'],
          '503': ERRORS['503'],
        },
      },
    },
    '/v2/models/{id}/versions/{v}/infer': {
      post: {
        summary: 'KServe v2 inference; inputs of any size are tiled server-side',
        description: `${binaryNote}. ${inferParamsNote}`,
        parameters: [idParam, { name: 'v', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': { schema: ref('V2InferRequest') },
            'application/octet-stream': {
              schema: { type: 'string', contentMediaType: 'application/octet-stream' },
            },
          },
        },
        responses: {
          '200': {
            description: `${binaryNote}`,
            content: {
              'application/json': { schema: ref('V2InferResponse') },
              'application/octet-stream': { schema: { type: 'string' } },
            },
          },
          ...ERRORS,
          ...SHM_DISABLED,
        },
      },
    },
    '/v2/systemsharedmemory/status': {
      get: {
        summary: 'every registered system shared-memory region',
        description: shmNote,
        responses: { '200': ok('regions', ref('SystemSharedMemoryStatus')), ...SHM_DISABLED },
      },
    },
    '/v2/systemsharedmemory/region/{name}/status': {
      get: {
        summary: 'one registered system shared-memory region (a one-element array)',
        description: shmNote,
        parameters: [nameParam],
        responses: {
          '200': ok('region', ref('SystemSharedMemoryStatus')),
          '400': ERRORS['400'],
          '404': err('no region of that name'),
          ...SHM_DISABLED,
        },
      },
    },
    '/v2/systemsharedmemory/region/{name}/register': {
      post: {
        summary:
          'register a POSIX shared-memory object the client created (key /name = <shmDir>/name; never created by the server)',
        description: `${shmNote}. The key must name a regular file directly in the shm folder (no '/' inside, no symlink); offset + byte_size must lie within it.`,
        security: [{ bearer: [] }],
        parameters: [nameParam],
        requestBody: { required: true, ...json(ref('SystemSharedMemoryRegister')) },
        responses: {
          '200': done('registered'),
          '400': err('bad body or name, no such object, or the region exceeds it'),
          '401': AUTH['401'],
          '403': err(
            'wrong bearer token; a key leading out of the shm folder, a symlink, or an object the server may not open',
          ),
          '409': err('a region of that name is registered already'),
          ...SHM_DISABLED,
        },
      },
    },
    '/v2/systemsharedmemory/unregister': {
      post: {
        summary: 'unregister every system shared-memory region',
        description: shmNote,
        security: [{ bearer: [] }],
        responses: { '200': done('unregistered'), ...AUTH, ...SHM_DISABLED },
      },
    },
    '/v2/systemsharedmemory/region/{name}/unregister': {
      post: {
        summary: 'unregister one system shared-memory region (an unknown name is a no-op, as in Triton)',
        description: shmNote,
        security: [{ bearer: [] }],
        parameters: [nameParam],
        responses: { '200': done('unregistered'), '400': ERRORS['400'], ...AUTH, ...SHM_DISABLED },
      },
    },
    '/predict/{id}': {
      post: {
        summary:
          '.npy in (raw intensities, [z,y,x] or [c,z,y,x]) → .npy float32 out ([C,z,y,x]; [C] for class models)',
        parameters: [
          idParam,
          {
            name: 'padding',
            in: 'query',
            schema: { enum: ['valid', 'zero', 'reflect', 'edge'], default: 'reflect' },
          },
          {
            name: 'dtype',
            in: 'query',
            description:
              'float16: nearest half float. uint8: value·255 rounded and clamped (as predict --uint8), for models whose channels all lie in [0, 1]; 400 otherwise',
            schema: { enum: ['float32', 'float16', 'uint8'], default: 'float32' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/octet-stream': {
              schema: { type: 'string', contentMediaType: 'application/octet-stream' },
            },
          },
        },
        responses: {
          '200': {
            description: '.npy',
            content: { 'application/octet-stream': { schema: { type: 'string' } } },
          },
          ...ERRORS,
        },
      },
    },
    '/jobs': {
      post: {
        summary: 'submit a volume job (zarr in → OME-Zarr v3 out, under the data root)',
        security: [{ bearer: [] }],
        requestBody: { required: true, ...json(ref('JobSubmit')) },
        responses: {
          '202': ok('accepted', ref('Job')),
          '400': ERRORS['400'],
          ...AUTH,
          '404': ERRORS['404'],
          '409': err('output exists'),
          '503': ERRORS['503'],
        },
      },
      get: {
        summary: 'all jobs',
        security: [{ bearer: [] }],
        responses: {
          '200': ok('jobs', {
            type: 'object',
            required: ['jobs'],
            properties: { jobs: { type: 'array', items: ref('Job') } },
          }),
          ...AUTH,
        },
      },
    },
    '/jobs/{id}': {
      get: {
        summary: 'job state, blocks done/total, ETA',
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: { '200': ok('job', ref('Job')), ...AUTH, '404': ERRORS['404'] },
      },
      delete: {
        summary: 'cancel a job',
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: {
          '200': ok('job', ref('Job')),
          ...AUTH,
          '404': ERRORS['404'],
          '409': err('job already finished'),
        },
      },
    },
    '/jobs/{id}/events': {
      get: {
        summary:
          "server-sent events: 'progress' with the job record on every change, 'end' on the final state",
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: {
          '200': {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...AUTH,
          '404': ERRORS['404'],
        },
      },
    },
  },
} as const;
