/**
 * The system shared-memory extension against a real server on loopback, real onnxruntime and real
 * /dev/shm objects: Triton's Python client unchanged (regions made with
 * tritonclient.utils.shared_memory, inputs and outputs through them, equal to the binary-HTTP
 * answer), a Node client writing and reading the tmpfs files itself, and a table of bad requests,
 * each with the right 4xx, a body matching openapi.json and the server still healthy.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../server/index.js';
import {
  checkAgainstOpenApi,
  LSD,
  python,
  startTestServer,
  TOKEN,
  testConfig,
  workspace,
} from './helpers.js';

const SHM = '/dev/shm';
const TAG = `emzoo-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const made: string[] = [];
/** A tmpfs object `<TAG>-<name>` holding `bytes`; removed after the file's tests. */
function shmObject(name: string, bytes: Uint8Array | number): string {
  const file = join(SHM, `${TAG}-${name}`);
  writeFileSync(file, typeof bytes === 'number' ? Buffer.alloc(bytes) : bytes);
  made.push(file);
  return `/${TAG}-${name}`;
}

let srv: RunningServer; // extension on, token set
let off: RunningServer; // extension off
let ws: ReturnType<typeof workspace>;

beforeAll(async () => {
  ws = workspace();
  srv = await startTestServer(testConfig(ws, { sharedMemory: 'system' }));
  off = await startTestServer(testConfig(ws, { jobsDir: join(ws.dir, 'jobs-off') }));
});
afterAll(async () => {
  await Promise.all([srv?.close(), off?.close()]);
  for (const f of made) rmSync(f, { force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (base: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
const register = (name: string, key: string, byteSize: number, offset = 0) =>
  post(srv.url, `/v2/systemsharedmemory/region/${name}/register`, { key, offset, byte_size: byteSize });

const CLIENT = `
import json, sys
import numpy as np, tritonclient.http as h, tritonclient.utils.shared_memory as shm
url, model, bundle, token, tag = sys.argv[1:6]
auth = {"Authorization": f"Bearer {token}"}
c = h.InferenceServerClient(url)
out = {"extensions": c.get_server_metadata()["extensions"]}
x = np.load(f"{bundle}/test_input.npy").astype(np.float32)
md = c.get_model_metadata(model)
ni, no = md["inputs"][0]["name"], md["outputs"][0]["name"]
def infer(shm_in=None, shm_out=None):
    i = h.InferInput(ni, list(x.shape), "FP32")
    if shm_in: i.set_shared_memory(*shm_in)
    else: i.set_data_from_numpy(x, binary_data=True)
    o = h.InferRequestedOutput(no, binary_data=True)
    if shm_out: o.set_shared_memory(*shm_out)
    return c.infer(model, [i], outputs=[o], headers=dict(auth) if (shm_in or shm_out) else None)  # a fresh dict: infer() writes into it
ref = infer().as_numpy(no)
nin, nout = x.nbytes, ref.nbytes
hin = shm.create_shared_memory_region("in", f"/{tag}-py-in", nin)
hout = shm.create_shared_memory_region("out", f"/{tag}-py-out", nout + 64)
try:
    shm.set_shared_memory_region(hin, [x])
    c.register_system_shared_memory("in", f"/{tag}-py-in", nin, headers=auth)
    c.register_system_shared_memory("out", f"/{tag}-py-out", nout + 64, headers=auth)
    out["status"] = c.get_system_shared_memory_status()
    out["status_one"] = c.get_system_shared_memory_status("out")
    r = infer(("in", nin), ("out", nout))
    out["shm_output_entry"] = r.get_output(no)
    out["both_equal"] = bool(np.array_equal(shm.get_contents_as_numpy(hout, np.float32, ref.shape), ref))
    # Mixed: binary input in the body, output into the region at offset 64.
    r = infer(None, ("out", nout, 64))
    out["offset_entry"] = r.get_output(no)
    out["out_only_equal"] = bool(np.array_equal(shm.get_contents_as_numpy(hout, np.float32, ref.shape, 64), ref))
    # Mixed: input from the region, binary output in the body.
    out["in_only_equal"] = bool(np.array_equal(infer(("in", nin)).as_numpy(no), ref))
    try:
        c.register_system_shared_memory("in2", f"/{tag}-py-in", nin)
        out["no_token"] = None
    except h.InferenceServerException as e:
        out["no_token"] = e.status()
    try:
        i = h.InferInput(ni, list(x.shape), "FP32"); i.set_shared_memory("in", nin)
        c.infer(model, [i])
        out["infer_no_token"] = None
    except h.InferenceServerException as e:
        out["infer_no_token"] = e.status()
    c.unregister_system_shared_memory("in", headers=auth)
    out["after_one"] = [s["name"] for s in c.get_system_shared_memory_status()]
    try:
        infer(("in", nin))
        out["unregistered"] = None
    except h.InferenceServerException as e:
        out["unregistered"] = [e.status(), e.message()]
    c.unregister_system_shared_memory("never-registered", headers=auth)
    c.unregister_system_shared_memory(headers=auth)
    out["after_all"] = c.get_system_shared_memory_status()
finally:
    shm.destroy_shared_memory_region(hin)
    shm.destroy_shared_memory_region(hout)
print(json.dumps(out))
`;

test('tritonclient unchanged: inputs and outputs through system shared memory equal the binary-HTTP answer', async () => {
  const r = JSON.parse(
    await python(CLIENT, [srv.url.replace('http://', ''), LSD, join(ws.weights, LSD), TOKEN, TAG]),
  );
  expect(r.extensions).toEqual(['binary_tensor_data', 'system_shared_memory']);
  const nin = 56 ** 3 * 4;
  const nout = 13 * 16 ** 3 * 4;
  expect(r.status).toEqual([
    { name: 'in', key: `/${TAG}-py-in`, offset: 0, byte_size: nin },
    { name: 'out', key: `/${TAG}-py-out`, offset: 0, byte_size: nout + 64 },
  ]);
  expect(r.status_one).toEqual([r.status[1]]);
  expect(r.shm_output_entry).toEqual({
    name: 'prediction',
    datatype: 'FP32',
    shape: [1, 13, 16, 16, 16],
    parameters: { shared_memory_region: 'out', shared_memory_byte_size: nout },
  });
  expect(r.both_equal).toBe(true);
  expect(r.offset_entry.parameters).toEqual({
    shared_memory_region: 'out',
    shared_memory_byte_size: nout,
    shared_memory_offset: 64,
  });
  expect(r.out_only_equal).toBe(true);
  expect(r.in_only_equal).toBe(true);
  expect(r.no_token).toBe('401');
  expect(r.infer_no_token).toBe('401');
  expect(r.after_one).toEqual(['out']);
  expect(r.unregistered[0]).toBe('400');
  expect(r.unregistered[1]).toMatch(/no system shared-memory region 'in' is registered/);
  expect(r.after_all).toEqual([]);
  expect(existsSync(join(SHM, `${TAG}-py-in`))).toBe(false); // the client unlinked its objects
}, 120_000);

describe('a Node client on the tmpfs files', () => {
  test('UINT8 input from a key without a leading slash, output read back with fs', async () => {
    const vol = new Uint8Array(56 ** 3);
    for (let i = 0; i < vol.length; i++) vol[i] = (i * 7919) % 251;
    const inKey = shmObject('node-in', vol).slice(1); // 'name' and '/name' are the same object
    const outKey = shmObject('node-out', 13 * 16 ** 3 * 4);
    expect((await register('node-in', inKey, vol.length)).status).toBe(200);
    expect((await register('node-out', outKey, 13 * 16 ** 3 * 4)).status).toBe(200);
    const status = await fetch(`${srv.url}/v2/systemsharedmemory/status`);
    checkAgainstOpenApi('GET', '/v2/systemsharedmemory/status', 200, await status.json());

    const shape = [1, 1, 56, 56, 56];
    const viaShm = await fetch(`${srv.url}/v2/models/${LSD}/infer`, {
      method: 'POST',
      headers: auth, // a request that touches shared memory needs the token, as registering does
      body: JSON.stringify({
        inputs: [
          {
            name: 'raw',
            shape,
            datatype: 'UINT8',
            parameters: { shared_memory_region: 'node-in', shared_memory_byte_size: vol.length },
          },
        ],
        outputs: [
          {
            name: 'prediction',
            parameters: { shared_memory_region: 'node-out', shared_memory_byte_size: 13 * 16 ** 3 * 4 },
          },
        ],
      }),
    });
    expect(viaShm.status).toBe(200);
    const meta = await viaShm.json();
    checkAgainstOpenApi('POST', '/v2/models/{id}/infer', 200, meta);
    expect(meta.outputs[0].data).toBeUndefined();
    const got = new Float32Array(new Uint8Array(readFileSync(join(SHM, outKey.slice(1)))).buffer);

    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'raw', shape, datatype: 'UINT8', parameters: { binary_data_size: vol.length } }],
        parameters: { binary_data_output: true },
      }),
    );
    const viaBody = await fetch(`${srv.url}/v2/models/${LSD}/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, vol]),
    });
    const body = Buffer.from(await viaBody.arrayBuffer());
    const hl = Number(viaBody.headers.get('inference-header-content-length'));
    const want = new Float32Array(new Uint8Array(body.subarray(hl)).buffer);
    expect(got).toEqual(want);

    // A UINT8 answer into the same region: its first 13·16³ bytes, value·255 rounded and clamped.
    const n = 13 * 16 ** 3;
    const viaShmU8 = await fetch(`${srv.url}/v2/models/${LSD}/infer`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        inputs: [
          {
            name: 'raw',
            shape,
            datatype: 'UINT8',
            parameters: { shared_memory_region: 'node-in', shared_memory_byte_size: vol.length },
          },
        ],
        outputs: [
          {
            name: 'prediction',
            parameters: { shared_memory_region: 'node-out', shared_memory_byte_size: n * 4 },
          },
        ],
        parameters: { output_datatype: 'UINT8' },
      }),
    });
    expect(viaShmU8.status).toBe(200);
    const metaU8 = await viaShmU8.json();
    expect(metaU8.outputs[0].datatype).toBe('UINT8');
    expect(metaU8.outputs[0].parameters.shared_memory_byte_size).toBe(n);
    const u8 = new Uint8Array(readFileSync(join(SHM, outKey.slice(1)))).subarray(0, n);
    const toU8 = (v: number) => Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
    expect(Array.from(u8)).toEqual(Array.from(want, toU8));
    await post(srv.url, '/v2/systemsharedmemory/unregister');
  }, 60_000);
});

interface Case {
  readonly name: string;
  readonly run: () => Promise<Response>;
  readonly method: 'GET' | 'POST';
  readonly template: string;
  readonly status: number;
  readonly code: string;
  readonly message?: RegExp;
  readonly hint?: RegExp;
}

const inferBody = (input: Record<string, unknown>, output?: Record<string, unknown>) => ({
  inputs: [{ name: 'raw', shape: [1, 1, 44, 44, 44], datatype: 'FP32', ...input }],
  ...(output ? { outputs: [{ name: 'prediction', parameters: output }] } : {}),
});
const infer = (base: string, body: unknown, headers: Record<string, string> = auth) =>
  post(base, `/v2/models/${LSD}/infer`, body, headers);
const IN_BYTES = 44 ** 3 * 4;

describe('bad requests: the right 4xx, a body matching openapi.json, the server still healthy', () => {
  let keys: Record<string, string>;
  beforeAll(async () => {
    keys = {
      input: shmObject('bad-in', IN_BYTES),
      small: shmObject('bad-small', 4096),
      shrinking: shmObject('bad-shrinking', IN_BYTES),
    };
    symlinkSync('/etc/passwd', join(SHM, `${TAG}-link`));
    made.push(join(SHM, `${TAG}-link`));
    for (const [name, key, size] of [
      ['input', keys.input, IN_BYTES],
      ['small', keys.small, 4096],
      ['shrinking', keys.shrinking, IN_BYTES],
    ] as const)
      expect((await register(name, key as string, size)).status).toBe(200);
    truncateSync(join(SHM, (keys.shrinking as string).slice(1)), 100);
  });

  const reg =
    (key: unknown, byteSize: unknown = 64, offset: unknown = 0) =>
    () =>
      post(srv.url, '/v2/systemsharedmemory/region/r1/register', { key, offset, byte_size: byteSize });
  const REG = '/v2/systemsharedmemory/region/{name}/register';
  const INFER = '/v2/models/{id}/infer';
  const cases: Case[] = [
    {
      name: 'traversal key ../etc/passwd',
      run: reg('../etc/passwd'),
      method: 'POST',
      template: REG,
      status: 403,
      code: 'PathForbidden',
    },
    {
      name: 'traversal key /../x',
      run: reg('/../x'),
      method: 'POST',
      template: REG,
      status: 403,
      code: 'PathForbidden',
    },
    {
      name: 'key with a slash inside',
      run: reg('/a/b'),
      method: 'POST',
      template: REG,
      status: 403,
      code: 'PathForbidden',
    },
    {
      name: 'hidden key /.x',
      run: reg('/.x'),
      method: 'POST',
      template: REG,
      status: 403,
      code: 'PathForbidden',
    },
    {
      name: 'key with a space',
      run: reg('/a b'),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
    },
    {
      name: 'key not a string',
      run: reg(7),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
    },
    {
      name: 'symlink to /etc/passwd',
      run: () => reg(`/${TAG}-link`)(),
      method: 'POST',
      template: REG,
      status: 403,
      code: 'PathForbidden',
      message: /symbolic link/,
    },
    {
      name: 'missing object',
      run: () => reg(`/${TAG}-missing`)(),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
      message: /does not exist/,
    },
    {
      name: 'region beyond the object',
      run: () => reg(keys.small, 4096, 1)(),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
      message: /ends after the object .* \(4096 bytes\)/,
    },
    {
      name: 'byte_size 0',
      run: () => reg(keys.small, 0)(),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
    },
    {
      name: 'negative offset',
      run: () => reg(keys.small, 8, -1)(),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
    },
    {
      name: 'register body not JSON',
      run: () => post(srv.url, '/v2/systemsharedmemory/region/r1/register', '{key'),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'MalformedRequest',
    },
    {
      name: 'unknown register field',
      run: () =>
        post(srv.url, '/v2/systemsharedmemory/region/r1/register', {
          key: keys.small,
          byte_size: 8,
          mode: 'rw',
        }),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
      message: /unknown register field\(s\) mode/,
    },
    {
      name: 'region name not allowed',
      run: () =>
        post(srv.url, '/v2/systemsharedmemory/region/a%20b/register', { key: keys.small, byte_size: 8 }),
      method: 'POST',
      template: REG,
      status: 400,
      code: 'InvalidArgument',
    },
    {
      name: 'name registered twice',
      run: () => register('small', keys.small as string, 8),
      method: 'POST',
      template: REG,
      status: 409,
      code: 'Conflict',
    },
    {
      name: 'register without the token',
      run: () => post(srv.url, REG.replace('{name}', 'r1'), { key: keys.small, byte_size: 8 }, {}),
      method: 'POST',
      template: REG,
      status: 401,
      code: 'Unauthorized',
    },
    {
      name: 'unregister with a wrong token',
      run: () =>
        post(srv.url, '/v2/systemsharedmemory/unregister', undefined, {
          authorization: 'Bearer wrong-token-000',
        }),
      method: 'POST',
      template: '/v2/systemsharedmemory/unregister',
      status: 403,
      code: 'Forbidden',
    },
    {
      name: 'infer through a registered region without the token',
      run: () =>
        infer(
          srv.url,
          inferBody({ parameters: { shared_memory_region: 'small', shared_memory_byte_size: IN_BYTES } }),
          {},
        ),
      method: 'POST',
      template: INFER,
      status: 401,
      code: 'Unauthorized',
      message: /infer requests that use shared memory need a bearer token/,
    },
    {
      name: 'status of an unknown region',
      run: () => fetch(`${srv.url}/v2/systemsharedmemory/region/nope/status`),
      method: 'GET',
      template: '/v2/systemsharedmemory/region/{name}/status',
      status: 404,
      code: 'NotFound',
    },
    {
      name: 'infer: unknown region',
      run: () =>
        infer(
          srv.url,
          inferBody({ parameters: { shared_memory_region: 'nope', shared_memory_byte_size: IN_BYTES } }),
        ),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'InvalidArgument',
      message: /no system shared-memory region 'nope' is registered/,
    },
    {
      name: 'infer: input bytes beyond the region',
      run: () =>
        infer(
          srv.url,
          inferBody({
            parameters: {
              shared_memory_region: 'input',
              shared_memory_byte_size: IN_BYTES,
              shared_memory_offset: 4,
            },
          }),
        ),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'InvalidArgument',
      message: /lie outside region 'input'/,
    },
    {
      name: 'infer: wrong input byte size',
      run: () =>
        infer(
          srv.url,
          inferBody({ parameters: { shared_memory_region: 'input', shared_memory_byte_size: 4096 } }),
        ),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'InvalidArgument',
      hint: new RegExp(`shared_memory_byte_size to ${IN_BYTES}`),
    },
    {
      name: 'infer: region without byte size',
      run: () => infer(srv.url, inferBody({ parameters: { shared_memory_region: 'input' } })),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'MalformedRequest',
    },
    {
      name: 'infer: shared memory and data at once',
      run: () =>
        infer(
          srv.url,
          inferBody({
            data: [1],
            parameters: { shared_memory_region: 'input', shared_memory_byte_size: IN_BYTES },
          }),
        ),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'MalformedRequest',
    },
    {
      name: 'infer: output region too small for the answer',
      run: () =>
        infer(
          srv.url,
          inferBody(
            { parameters: { shared_memory_region: 'input', shared_memory_byte_size: IN_BYTES } },
            { shared_memory_region: 'small', shared_memory_byte_size: 1024 },
          ),
        ),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'InvalidArgument',
      hint: /shared_memory_byte_size to 3328/, // [1, 13, 4, 4, 4] FP32
    },
    {
      name: 'infer: object truncated after registration',
      run: () =>
        infer(
          srv.url,
          inferBody({ parameters: { shared_memory_region: 'shrinking', shared_memory_byte_size: IN_BYTES } }),
        ),
      method: 'POST',
      template: INFER,
      status: 400,
      code: 'InvalidArgument',
      message: /now smaller than the region/,
    },
    {
      name: 'extension off: status',
      run: () => fetch(`${off.url}/v2/systemsharedmemory/status`),
      method: 'GET',
      template: '/v2/systemsharedmemory/status',
      status: 501,
      code: 'ExtensionDisabled',
      hint: /--shared-memory system/,
    },
    {
      name: 'extension off: register',
      run: () =>
        post(off.url, '/v2/systemsharedmemory/region/r1/register', { key: keys.small, byte_size: 8 }),
      method: 'POST',
      template: REG,
      status: 501,
      code: 'ExtensionDisabled',
    },
    {
      name: 'extension off: infer with shared-memory parameters',
      run: () =>
        infer(
          off.url,
          inferBody({ parameters: { shared_memory_region: 'input', shared_memory_byte_size: IN_BYTES } }),
        ),
      method: 'POST',
      template: INFER,
      status: 501,
      code: 'ExtensionDisabled',
    },
  ];

  test.each(cases)('$name → $status $code', async (c) => {
    const res = await c.run();
    const body = await res.json();
    expect({ status: res.status, code: body.code }).toEqual({ status: c.status, code: c.code });
    if (c.message) expect(body.message).toMatch(c.message);
    if (c.hint) expect(body.hint).toMatch(c.hint);
    checkAgainstOpenApi(c.method, c.template, c.status, body);
    for (const base of [srv.url, off.url]) expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });

  test('nothing was registered by the refused requests; /v2 lists the extension only when on', async () => {
    const names = (
      (await (await fetch(`${srv.url}/v2/systemsharedmemory/status`)).json()) as { name: string }[]
    )
      .map((s) => s.name)
      .sort();
    expect(names).toEqual(['input', 'shrinking', 'small']);
    expect((await (await fetch(`${off.url}/v2`)).json()).extensions).toEqual(['binary_tensor_data']);
    expect((await (await fetch(`${srv.url}/v2`)).json()).extensions).toContain('system_shared_memory');
  });
});
