/**
 * `serve --socket`: the server on a real Unix domain socket (in-process and as the CLI's child
 * process), a binary KServe request through node:http's socketPath equal to onnxruntime, the
 * socket file's mode, a stale socket replaced, a live one and a regular file left alone.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isServeError, type RunningServer, startServer } from '../../server/index.js';
import { LSD, lsdBinaryRequest, maxAbsDiff, ROOT, spawnServer, testConfig, workspace } from './helpers.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function viaSocket(socketPath: string, method: string, path: string, body?: Buffer, headers = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

let ws: ReturnType<typeof workspace>;
let srv: RunningServer;
let sock: string;

beforeAll(async () => {
  ws = workspace();
  sock = join(ws.dir, 'serve.sock');
  srv = await startServer(testConfig(ws, { socket: sock, socketMode: 0o660 }));
});
afterAll(async () => {
  await srv?.close();
});

describe('serve on a Unix domain socket', () => {
  test('url, no port, the socket file with the configured mode; health and /v2 answer', async () => {
    expect(srv.url).toBe(`http+unix://${encodeURIComponent(sock)}`);
    expect(srv.port).toBeUndefined();
    const st = lstatSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    const ready = await viaSocket(sock, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    const v2 = JSON.parse((await viaSocket(sock, 'GET', '/v2')).body.toString());
    expect(v2.extensions).toContain('binary_tensor_data');
  });

  test('a binary infer request through the socket equals onnxruntime on the same block', async () => {
    const { ref, body, headerLength } = await lsdBinaryRequest(ws.weights, 48); // min 44 + 4: valid
    const r = await viaSocket(sock, 'POST', `/v2/models/${LSD}/infer`, body, {
      'inference-header-content-length': String(headerLength),
    });
    expect(r.status, r.body.subarray(0, 300).toString()).toBe(200);
    const hl = Number(r.headers['inference-header-content-length']);
    const meta = JSON.parse(r.body.subarray(0, hl).toString());
    expect(meta.outputs[0].shape).toEqual(ref.shape);
    const y = new Float32Array(
      r.body.buffer.slice(r.body.byteOffset + hl, r.body.byteOffset + r.body.byteLength),
    );
    expect(maxAbsDiff(y, ref.data)).toBeLessThan(1e-5);
  }, 120_000);

  test('a second server on the live socket is refused and the first keeps answering', async () => {
    const err = await startServer(testConfig(ws, { socket: sock })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isServeError(err, 'ConfigInvalid')).toBe(true);
    expect((err as Error).message).toMatch(/another server is listening on socket/);
    expect((await viaSocket(sock, 'GET', '/health/live')).status).toBe(200);
  });
});

describe('socket files at start and stop', () => {
  test('a stale socket (its server killed) is replaced; close removes the file', async () => {
    const path = join(ws.dir, 'stale.sock');
    // What a SIGKILLed server leaves behind: the socket file, nobody listening on it.
    const holder = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
    ]);
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    const gone = new Promise<void>((r) => holder.on('exit', () => r()));
    holder.kill('SIGKILL');
    await gone;
    expect(lstatSync(path).isSocket()).toBe(true);
    const s = await startServer(testConfig(ws, { socket: path }));
    try {
      expect((await viaSocket(path, 'GET', '/health/live')).status).toBe(200);
      expect(lstatSync(path).mode & 0o777).toBe(0o600); // the default: this user only
    } finally {
      await s.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  test('the CLI: --socket prints the http+unix URL; a regular file at the path is refused and kept', async () => {
    const path = join(ws.dir, 'cli.sock');
    const { url, child } = await spawnServer([
      '--socket',
      path,
      '--models-dir',
      ws.weights,
      '--data-root',
      ws.data,
      '--jobs-dir',
      ws.jobs,
    ]);
    expect(url).toBe(`http+unix://${encodeURIComponent(path)}`);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    expect((await viaSocket(path, 'GET', '/health/ready')).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(path)).toBe(false);

    const file = join(ws.dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    chmodSync(file, 0o644);
    const bad = spawn(process.execPath, [join(ROOT, 'bin/bioimage-export.js'), 'serve', '--socket', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let badErr = '';
    bad.stderr?.on('data', (d: Buffer) => {
      badErr += d.toString();
    });
    const code = await new Promise<number | null>((r) => bad.on('exit', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(badErr).toMatch(/exists and is not a socket/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  }, 60_000);
});
