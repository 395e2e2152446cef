/** openapi.json describes every route the app registers (and nothing else), and server/'s public entry is locked. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as server from '../../server/index.js';
import {
  buildApp,
  openApiDocument,
  type RunningServer,
  resolveConfig,
  startServer,
} from '../../server/index.js';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer(
    resolveConfig([
      {
        port: 0,
        modelsDir: '/nonexistent',
        jobsDir: `${process.env.TMPDIR ?? '/tmp'}/emzoo-openapi-jobs-${process.pid}`,
        logLevel: 'silent',
      },
    ]),
  );
});
afterAll(async () => {
  await srv?.close();
});

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

test('every express route is in openapi.json and every documented operation exists', () => {
  const app = buildApp(srv.ctx) as unknown as { router: { stack: Layer[] } };
  const routes: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const l of stack) {
      if (l.route)
        for (const m of Object.keys(l.route.methods))
          routes.push(`${m} ${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
      else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk(app.router.stack);
  const documented = Object.entries(openApiDocument.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => `${m} ${p}`),
  );
  expect(routes.sort()).toEqual(documented.sort());
  expect(routes.length).toBeGreaterThan(20);
});

test('server/index.ts exports', () => {
  expect(Object.keys(server).sort()).toEqual([
    'CONFIG_KEYS',
    'MODEL_ID',
    'SERVE_STATUS',
    'ServeError',
    'buildApp',
    'checkVolumeInput',
    'configFromEnv',
    'configFromFile',
    'confine',
    'defaultConfig',
    'findVoxelSize',
    'isServeError',
    'jsonLogger',
    'openApiDocument',
    'parseRoi',
    'parseTriple',
    'parseZarrLocation',
    'resolveConfig',
    'runVolume',
    'startServer',
    'toHttpError',
    'voxelSizeFromAttrs',
  ]);
});
