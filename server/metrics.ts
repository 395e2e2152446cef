/** Prometheus metrics (prom-client), one registry per server so several servers can share a process. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly inference: Histogram<'model'>;
  readonly queueDepth: Gauge;
  readonly inflight: Gauge;
  readonly blocks: Counter<'model' | 'source'>;
  readonly jobs: Gauge<'state'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const opts = { registers: [registry] };
  return {
    registry,
    requests: new Counter({
      name: 'emzoo_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      ...opts,
    }),
    latency: new Histogram({
      name: 'emzoo_http_request_duration_seconds',
      help: 'HTTP request latency (first byte in to last byte out)',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      ...opts,
    }),
    inference: new Histogram({
      name: 'emzoo_inference_duration_seconds',
      help: 'Time spent computing one inference request (tiling + onnxruntime), by model',
      labelNames: ['model'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      ...opts,
    }),
    queueDepth: new Gauge({
      name: 'emzoo_queue_depth',
      help: 'Inference requests waiting for a slot',
      ...opts,
    }),
    inflight: new Gauge({
      name: 'emzoo_inflight_requests',
      help: 'Inference requests computing now',
      ...opts,
    }),
    blocks: new Counter({
      name: 'emzoo_blocks_processed_total',
      help: 'Blocks run through a model, by model and source (request or job)',
      labelNames: ['model', 'source'],
      ...opts,
    }),
    jobs: new Gauge({
      name: 'emzoo_jobs',
      help: 'Volume jobs by state',
      labelNames: ['state'],
      ...opts,
    }),
  };
}
