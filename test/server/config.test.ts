/** Server configuration: layers (file < env < flags), validation naming every problem, and the `serve` CLI refusing bad settings. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import { configFromEnv, configFromFile, isServeError, resolveConfig } from '../../server/index.js';
import { tempDir } from '../exporters/bundles.js';

describe('resolveConfig', () => {
  test('later layers win; env names are EMZOO_SERVE_<UPPER_SNAKE>', () => {
    const dir = tempDir();
    const file = join(dir, 'serve.yaml');
    writeFileSync(file, 'port: 9000\nmaxQueue: 3\nmodelsDir: models\n');
    const c = resolveConfig(
      [
        configFromFile(file),
        configFromEnv({ EMZOO_SERVE_PORT: '9100', EMZOO_SERVE_MAX_BODY_BYTES: '4096' }),
        { maxQueue: '5' },
      ],
      dir,
    );
    expect(c.port).toBe(9100);
    expect(c.maxBodyBytes).toBe(4096);
    expect(c.maxQueue).toBe(5);
    expect(c.modelsDir).toBe(join(dir, 'models'));
    expect(c.host).toBe('127.0.0.1');
  });

  test('every bad value is named in one ConfigInvalid', () => {
    try {
      resolveConfig([{ port: 'eighty', maxConcurrent: 0, logLevel: 'loud', token: 'short' }]);
      expect.unreachable();
    } catch (err) {
      expect(isServeError(err, 'ConfigInvalid')).toBe(true);
      const m = (err as Error).message;
      for (const k of ['port', 'maxConcurrent', 'logLevel', 'token']) expect(m).toContain(k);
    }
  });

  test('a public host needs a token; unknown file keys are refused', () => {
    expect(() => resolveConfig([{ host: '0.0.0.0' }])).toThrow(/no token is set/);
    expect(resolveConfig([{ host: '0.0.0.0', token: 'a-long-enough-token' }]).host).toBe('0.0.0.0');
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(() => configFromFile(file)).toThrow(/unknown key\(s\) prot/);
  });

  test('shared memory: off by default, system needs an existing shm folder', () => {
    expect(resolveConfig([{}]).sharedMemory).toBe('off');
    expect(resolveConfig([configFromEnv({ EMZOO_SERVE_SHARED_MEMORY: 'system' })]).sharedMemory).toBe(
      'system',
    );
    expect(() => resolveConfig([{ sharedMemory: 'cuda' }])).toThrow(
      /sharedMemory must be one of off, system/,
    );
    expect(() => resolveConfig([{ sharedMemory: 'system', shmDir: '/nonexistent-shm' }])).toThrow(
      /shmDir \/nonexistent-shm is not a directory/,
    );
  });

  test('a Unix socket: path resolved, mode parsed in octal, every bad setting named', () => {
    const dir = tempDir();
    const c = resolveConfig(
      [configFromEnv({ EMZOO_SERVE_SOCKET: 's.sock', EMZOO_SERVE_SOCKET_MODE: '660' })],
      dir,
    );
    expect(c.socket).toBe(join(dir, 's.sock'));
    expect(c.socketMode).toBe(0o660);
    expect(resolveConfig([{}]).socket).toBeUndefined();
    expect(resolveConfig([{}]).socketMode).toBe(0o600);
    expect(resolveConfig([{ socketMode: '0o640' }]).socketMode).toBe(0o640);
    // a socket needs no token (its file's permissions decide), unless every user may connect
    expect(resolveConfig([{ host: '0.0.0.0', socket: join(dir, 'a.sock') }]).socket).toBe(
      join(dir, 'a.sock'),
    );
    expect(() => resolveConfig([{ socket: join(dir, 'b.sock'), socketMode: '666' }])).toThrow(
      /socketMode 666 lets every user connect but no token is set/,
    );
    expect(
      resolveConfig([{ socket: join(dir, 'b.sock'), socketMode: '666', token: 'a-long-enough-token' }])
        .socketMode,
    ).toBe(0o666);
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    try {
      resolveConfig([{ socket: `${dir}/${'x'.repeat(120)}.sock`, socketMode: 'rw-' }]);
      expect.unreachable();
    } catch (err) {
      const m = (err as Error).message;
      expect(m).toMatch(/bytes long; Unix sockets allow 107/);
      expect(m).toMatch(/socketMode must be permission bits in octal/);
    }
    expect(() => resolveConfig([{ socket: '/nonexistent-dir/s.sock' }])).toThrow(
      /its folder \/nonexistent-dir does not exist/,
    );
    expect(() => resolveConfig([{ socket: file }])).toThrow(/exists and is not a socket/);
  });

  test('`serve` with a bad flag exits 2 with the problem and a hint', async () => {
    const err: string[] = [];
    const code = await main(['serve', '--port', '99999'], { out: () => {}, err: (t) => err.push(t) });
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/\[ConfigInvalid\].*port must be an integer in 0\.\.65535[\s\S]*hint:/);
  });
});
