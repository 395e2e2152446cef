/**
 * Triton's own Python HTTP client (tritonclient[http], the serve-test extra) against our server,
 * unchanged: health/metadata calls, binary tensor data both ways and JSON tensors, the numbers
 * compared with the bundle's test_output.npy and with onnxruntime (Python) on a tiled input, and
 * UINT8 and FP16 answers (request parameter output_datatype) read by the client as uint8/float16.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../server/index.js';
import { CLASSES, LSD, python, startTestServer, testConfig, workspace } from './helpers.js';

let srv: RunningServer;
let ws: ReturnType<typeof workspace>;

beforeAll(async () => {
  ws = workspace();
  srv = await startTestServer(testConfig(ws, { memoryBudgetBytes: 60 * 2 ** 20 }));
});
afterAll(async () => {
  await srv?.close();
});

const CLIENT = `
import json, sys
import numpy as np, onnxruntime as ort, tritonclient.http as h
url, model, bundle, big = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = h.InferenceServerClient(url)
out = {"live": c.is_server_live(), "ready": c.is_server_ready(), "model_ready": c.is_model_ready(model)}
md = c.get_model_metadata(model)
out["input"] = md["inputs"][0]; out["output"] = md["outputs"][0]
out["extensions"] = c.get_server_metadata()["extensions"]
out["test_shape"] = None
x = np.load(f"{bundle}/test_input.npy"); y = np.load(f"{bundle}/test_output.npy")
out["test_shape"] = list(y.shape)
name_in, name_out = md["inputs"][0]["name"], md["outputs"][0]["name"]
def infer(arr, binary_in, binary_out, dtype="FP32", **kw):
    i = h.InferInput(name_in, list(arr.shape), dtype); i.set_data_from_numpy(arr, binary_data=binary_in)
    r = c.infer(model, [i], outputs=[h.InferRequestedOutput(name_out, binary_data=binary_out)], **kw)
    return r.as_numpy(name_out)
for b_in, b_out in [(True, True), (False, False), (True, False), (False, True)]:
    got = infer(x, b_in, b_out)
    out[f"test_output_{b_in}_{b_out}"] = [list(got.shape), float(np.abs(got - y).max())]
if big:
    rng = np.random.default_rng(3)
    v = rng.integers(0, 256, (2, 1, big, big, big)).astype(np.uint8)
    sess = ort.InferenceSession(f"{bundle}/model.onnx")
    ref = sess.run(None, {sess.get_inputs()[0].name: v.astype(np.float32) * np.float32(2 / 255) - np.float32(1)})[0]
    got = infer(v, True, True, dtype="UINT8")
    out["tiled"] = [list(got.shape), list(ref.shape), float(np.abs(got - ref).max())]
    u8 = infer(v, True, True, dtype="UINT8", parameters={"output_datatype": "UINT8"})
    want = np.clip(np.floor(got.astype(np.float64) * 255 + 0.5), 0, 255).astype(np.uint8)
    out["tiled_uint8"] = [str(u8.dtype), list(u8.shape), int((u8 != want).sum())]
    for b_out in (True, False):
        f16 = infer(v, True, b_out, dtype="UINT8", parameters={"output_datatype": "FP16"})
        out[f"tiled_fp16_{b_out}"] = [str(f16.dtype), list(f16.shape), int((f16 != got.astype(np.float16)).sum())]
    try:
        infer(v[:, :, :10], True, True, dtype="UINT8")
        out["small_error"] = None
    except h.InferenceServerException as e:
        out["small_error"] = [e.status(), e.message()]
print(json.dumps(out))
`;

test('tritonclient: binary and JSON tensors reproduce test_output; a tiled batch equals onnxruntime', async () => {
  const r = JSON.parse(
    await python(CLIENT, [srv.url.replace('http://', ''), LSD, join(ws.weights, LSD), '52']),
  );
  expect(r.live && r.ready && r.model_ready).toBe(true);
  expect(r.extensions).toContain('binary_tensor_data');
  expect(r.input).toEqual({ name: 'raw', datatype: 'FP32', shape: [-1, 1, -1, -1, -1] });
  for (const k of ['True_True', 'False_False', 'True_False', 'False_True']) {
    const [shape, err] = r[`test_output_${k}`];
    expect(shape).toEqual(r.test_shape);
    expect(shape[1]).toBe(13);
    expect(err).toBeLessThan(1e-4);
  }
  const [shape, refShape, err] = r.tiled;
  expect(shape).toEqual(refShape);
  expect(shape).toEqual([2, 13, 12, 12, 12]);
  expect(err).toBeLessThan(1e-5);
  // parameters={"output_datatype": "UINT8"}: as_numpy gives uint8 = the FP32 answer · 255, rounded.
  expect(r.tiled_uint8).toEqual(['uint8', [2, 13, 12, 12, 12], 0]);
  // FP16, binary and JSON: float16 equal to numpy's astype(float16) of the FP32 answer.
  expect(r.tiled_fp16_True).toEqual(['float16', [2, 13, 12, 12, 12], 0]);
  expect(r.tiled_fp16_False).toEqual(['float16', [2, 13, 12, 12, 12], 0]);
  // Too small for the model: the client raises with our 400 and a hint naming the valid sizes.
  expect(r.small_error[0]).toBe('400');
  expect(r.small_error[1]).toMatch(/minimum input \[44,44,44\]/);
}, 120_000);

test('tritonclient: a class model (fixed input size) reproduces its test output', async () => {
  const r = JSON.parse(
    await python(CLIENT, [srv.url.replace('http://', ''), CLASSES, join(ws.weights, CLASSES), '0']),
  );
  expect(r.output.shape).toEqual([-1, 3]);
  for (const k of ['True_True', 'False_False']) {
    const [shape, err] = r[`test_output_${k}`];
    expect(shape).toEqual(r.test_shape);
    expect(err).toBeLessThan(1e-4);
  }
}, 60_000);
