/**
 * docker/: every Kubernetes manifest and the compose file parse (js-yaml) and hang together —
 * selectors match pod labels, claims and Services exist, containers request resources, the
 * commands they run exist with the flags they pass (bioimage-export's own parser; `emzoo train
 * --help`), the DDP Job's torchrun matches its Indexed Job size. No cluster or Docker engine needed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { describe, expect, test } from 'vitest';
import { buildProgram } from '../../cli/main.js';
import { ROOT, VENV_PYTHON } from '../runtime/helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: untyped YAML documents, checked field by field below
type Obj = Record<string, any>;
const K8S = join(ROOT, 'docker/k8s');
const docs: { file: string; doc: Obj }[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    yaml
      .loadAll(readFileSync(join(K8S, file), 'utf8'))
      .filter((d) => d !== null)
      .map((doc) => ({ file, doc: doc as Obj })),
  );
const ofKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const byName = (kind: string, name: string) => ofKind(kind).find((d) => d.metadata?.name === name);
const podSpecs = () =>
  [...ofKind('Deployment'), ...ofKind('Job')].map((d) => ({
    name: d.metadata.name as string,
    spec: d.spec.template.spec as Obj,
    owner: d,
  }));

/** Checks `args` against a commander command: it exists and knows every --flag passed. */
function checkCliArgs(args: readonly string[]): void {
  const program = buildProgram({ out: () => undefined, err: () => undefined });
  const cmd = program.commands.find((c) => c.name() === args[0]);
  expect(cmd, `bioimage-export ${args[0]}`).toBeDefined();
  const known = new Set(cmd?.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
  for (const a of args.filter((x) => x.startsWith('-')))
    expect(known, `${args[0]} ${a}`).toContain(a.split('=')[0]);
}

let trainHelp: string | undefined;
function checkTrainArgs(args: readonly string[]): void {
  expect(args[0]).toBe('train');
  trainHelp ??= execFileSync(VENV_PYTHON, ['-m', 'emzoo', 'train', '--help'], { encoding: 'utf8' });
  for (const a of args.filter((x) => x.startsWith('--'))) expect(trainHelp, `emzoo train ${a}`).toContain(a);
}

describe('docker/k8s manifests', () => {
  test('parse, with the expected objects', () => {
    const names = docs
      .filter((d) => d.doc.kind !== 'Kustomization')
      .map((d) => `${d.doc.kind}/${d.doc.metadata?.name}`);
    expect(names.sort()).toEqual(
      [
        'Deployment/emzoo-redis',
        'Deployment/emzoo-server',
        'Deployment/emzoo-worker',
        'Deployment/emzoo-worker-gpu',
        'Job/emzoo-train',
        'Job/emzoo-train-ddp',
        'PersistentVolumeClaim/emzoo-data',
        'PersistentVolumeClaim/emzoo-redis',
        'Service/emzoo-redis',
        'Service/emzoo-server',
        'Service/emzoo-train-ddp',
      ].sort(),
    );
    for (const { file, doc } of docs) {
      expect(typeof doc.apiVersion, file).toBe('string');
      if (doc.kind !== 'Kustomization') expect(doc.metadata?.name, file).toMatch(/^[a-z0-9-]+$/);
    }
    const kustomize = ofKind('Kustomization')[0];
    for (const r of kustomize?.resources ?? []) expect(readdirSync(K8S)).toContain(r);
  });

  test('Deployments select their pods; Services select a pod template and name its ports', () => {
    for (const d of ofKind('Deployment')) {
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
        expect(labels[k], d.metadata.name).toBe(v);
    }
    for (const s of ofKind('Service')) {
      const sel = Object.entries(s.spec.selector as Obj);
      const matches = [...ofKind('Deployment'), ...ofKind('Job')].filter((d) => {
        const labels = {
          ...d.spec.template.metadata.labels,
          'job-name': d.kind === 'Job' ? d.metadata.name : undefined,
        };
        return sel.every(([k, v]) => labels[k] === v);
      });
      expect(matches.length, `Service ${s.metadata.name}`).toBeGreaterThan(0);
      for (const p of s.spec.ports) {
        if (typeof p.targetPort !== 'string') continue;
        const ports = matches.flatMap((m) =>
          m.spec.template.spec.containers.flatMap((c: Obj) => c.ports ?? []),
        );
        expect(
          ports.map((x: Obj) => x.name),
          `${s.metadata.name} → ${p.targetPort}`,
        ).toContain(p.targetPort);
      }
    }
  });

  test('every container has an image and resource requests; every claim exists', () => {
    for (const { name, spec } of podSpecs()) {
      for (const c of spec.containers) {
        expect(c.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
        expect(c.resources?.requests?.cpu, `${name} cpu request`).toBeDefined();
        expect(c.resources?.requests?.memory, `${name} memory request`).toBeDefined();
        const mounts = new Set((c.volumeMounts ?? []).map((m: Obj) => m.name));
        for (const m of mounts)
          expect(
            spec.volumes.map((v: Obj) => v.name),
            `${name} mount ${m}`,
          ).toContain(m);
      }
      for (const v of spec.volumes ?? []) {
        if (v.persistentVolumeClaim)
          expect(byName('PersistentVolumeClaim', v.persistentVolumeClaim.claimName), name).toBeDefined();
      }
    }
    expect(byName('PersistentVolumeClaim', 'emzoo-data')?.spec.accessModes).toContain('ReadWriteMany');
  });

  test('server and workers run real bioimage-export commands and reach Redis through its Service', () => {
    const redis = byName('Service', 'emzoo-redis');
    const redisUrl = `redis://${redis?.metadata.name}:${redis?.spec.ports[0].port}`;
    for (const name of ['emzoo-server', 'emzoo-worker', 'emzoo-worker-gpu']) {
      const c = byName('Deployment', name)?.spec.template.spec.containers[0];
      checkCliArgs(c.args);
      if (name !== 'emzoo-server') {
        expect(c.args[0]).toBe('worker');
        expect(c.args[c.args.indexOf('--redis') + 1]).toBe(redisUrl);
      }
    }
    const gpu = byName('Deployment', 'emzoo-worker-gpu')?.spec.template.spec.containers[0];
    expect(gpu.args).toContain('cuda');
    expect(gpu.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(byName('Deployment', 'emzoo-worker')?.spec.replicas).toBeGreaterThan(1);
  });

  test('training Jobs: one GPU with emzoo train; DDP = Indexed Job sized like its torchrun', () => {
    const one = byName('Job', 'emzoo-train')?.spec.template.spec.containers[0];
    checkTrainArgs(one.args);
    expect(one.resources.limits['nvidia.com/gpu']).toBe(1);

    const job = byName('Job', 'emzoo-train-ddp');
    const c = job?.spec.template.spec.containers[0];
    expect(job?.spec.completionMode).toBe('Indexed');
    expect(c.command).toEqual(['torchrun']);
    const flag = (n: string) => (c.args as string[]).find((a) => a.startsWith(`--${n}=`))?.split('=')[1];
    expect(Number(flag('nnodes'))).toBe(job?.spec.completions);
    expect(job?.spec.parallelism).toBe(job?.spec.completions);
    expect(Number(flag('nproc_per_node'))).toBe(c.resources.limits['nvidia.com/gpu']);
    expect(flag('node_rank')).toBe('$(JOB_COMPLETION_INDEX)');
    expect(c.env.map((e: Obj) => e.name)).toContain('JOB_COMPLETION_INDEX');
    const svc = byName('Service', 'emzoo-train-ddp');
    expect(svc?.spec.clusterIP).toBe('None');
    expect(job?.spec.template.spec.subdomain).toBe(svc?.metadata.name);
    expect(flag('master_addr')).toBe(`${job?.metadata.name}-0.${svc?.metadata.name}`);
    expect(Number(flag('master_port'))).toBe(svc?.spec.ports[0].port);
    const m = (c.args as string[]).indexOf('-m');
    expect(c.args.slice(m, m + 2)).toEqual(['-m', 'emzoo']);
    checkTrainArgs(c.args.slice(m + 2));
  });
});

describe('docker/compose.yaml and Dockerfiles', () => {
  const compose = yaml.load(readFileSync(join(ROOT, 'docker/compose.yaml'), 'utf8')) as Obj;

  test('compose: server + redis + workers, sharing the same mounts, workers on the redis service', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['redis', 'server', 'worker']);
    checkCliArgs(s.server.command);
    checkCliArgs(s.worker.command);
    expect(s.worker.command[s.worker.command.indexOf('--redis') + 1]).toBe('redis://redis:6379');
    expect(s.worker.deploy.replicas).toBeGreaterThan(1);
    expect(s.worker.volumes).toEqual(s.server.volumes); // job records name paths every worker must see
    expect(s.worker.depends_on.redis.condition).toBe('service_healthy');
    expect(s.server.image).toBe(s.worker.image);
  });

  test('Dockerfiles: pinned bases and torch, npm ci with the .npmrc, the CLI as entrypoint', () => {
    const server = readFileSync(join(ROOT, 'docker/server.Dockerfile'), 'utf8');
    expect(server).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(server).toMatch(/^COPY package\.json package-lock\.json \.npmrc \.\/$/m);
    // tsx (a dev dependency) runs the sources; NODE_ENV=production alone would make npm ci skip it
    expect(server).toMatch(/npm ci --include=dev /);
    expect(server).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/bioimage-export\.js"\]$/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(server)?.[1] ?? '[]') as string[];
    checkCliArgs(cmd);
    for (const dir of /^COPY (\S+) \.\/\1$/gm[Symbol.matchAll](server))
      expect(readdirSync(ROOT)).toContain(dir[1]);
    const train = readFileSync(join(ROOT, 'docker/train.Dockerfile'), 'utf8');
    expect(train).toMatch(/^ARG PYTHON_IMAGE=python:3\.11-slim/m);
    expect(train).toMatch(/^ARG TORCH_VERSION=2\.13\.0$/m);
    expect(train).toMatch(/^ARG TORCH_VARIANT=cpu$/m);
    expect(train).toMatch(/pip install "torch==\$\{TORCH_VERSION\}" --index-url/);
    for (const def of ['server', 'train']) {
      const text = readFileSync(join(ROOT, `docker/apptainer/${def}.def`), 'utf8');
      expect(text).toMatch(/^Bootstrap: docker$/m);
      expect(text).toMatch(new RegExp(`^From: emzoo/${def}:0\\.1\\.0`, 'm'));
      expect(text).toMatch(/^%runscript$/m);
    }
  });
});
