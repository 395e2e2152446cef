import { Redis } from 'ioredis';
import { QueueError } from './queue-errors.js';

/**
 * Connects to `redis://[user:pass@]host:port[/db]` (or rediss:// for TLS), failing with
 * RedisUnavailable after `timeoutMs` instead of retrying forever. Once connected, ioredis
 * reconnects by itself after a blip; commands issued meanwhile wait in its offline queue.
 */
export async function connectRedis(url: string, options: { timeoutMs?: number } = {}): Promise<Redis> {
  if (!/^rediss?:\/\/[^/\s]+/.test(url)) {
    throw new QueueError(
      'RedisUnavailable',
      `'${url}' is not a Redis URL`,
      'give redis://host:port (e.g. redis://127.0.0.1:6379), or rediss:// for TLS',
    );
  }
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: options.timeoutMs ?? 5000,
    maxRetriesPerRequest: 5,
  });
  redis.on('error', () => undefined); // reported through failed commands; don't crash on 'error' events
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new QueueError(
      'RedisUnavailable',
      `cannot reach Redis at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${err instanceof Error ? err.message : String(err)}`,
      'start redis-server (apt-get install redis-server) or fix --redis / EMZOO_REDIS_URL; check firewalls between workers and Redis',
      { cause: err },
    );
  }
  return redis;
}
