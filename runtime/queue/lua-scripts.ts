/**
 * The queue's state changes as Lua scripts, so each is atomic on the Redis server and uses the
 * server's clock (TIME) for leases: workers on hosts with skewed clocks still agree on expiry.
 * Every script takes a job's keys in the order of `KEYS_ORDER`.
 */
import type { Redis } from 'ioredis';
import type { JobKeys } from './keys.js';

export const KEYS_ORDER = [
  'pending',
  'leases',
  'owner',
  'done',
  'counts',
  'attempts',
  'failed',
  'workers',
] as const satisfies readonly (keyof JobKeys)[];

// Shared Lua prelude: key names, the server clock, and "finished" bookkeeping.
const PRELUDE = `
local pending, leases, owner, done, counts, attempts, failed, workers =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function finish_if_done(active, job)
  local c = redis.call('HMGET', counts, 'total', 'done', 'failed')
  if tonumber(c[2] or 0) + tonumber(c[3] or 0) >= tonumber(c[1] or 0) then
    redis.call('SREM', active, job)
    redis.call('HSETNX', counts, 'finishedAt', now)
  end
end
local function give_up(id, why, active, job)
  if redis.call('HSETNX', failed, id, why) == 1 then redis.call('HINCRBY', counts, 'failed', 1) end
  finish_if_done(active, job)
end
`;

/**
 * ARGV: leaseMs, worker, maxRetries, active set key, job id.
 * First returns expired leases to the queue (an expiry counts as a failed attempt: the holder died
 * or hung), then leases the next pending block that is neither done nor failed.
 * Returns {'block', id} | {'wait', ms until the earliest lease expires} | {'empty'}.
 */
const NEXT = `${PRELUDE}
local leaseMs, worker, maxRetries, active, job = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  local who = redis.call('HGET', owner, id) or '?'
  redis.call('ZREM', leases, id)
  redis.call('HDEL', owner, id)
  if redis.call('GETBIT', done, id) == 0 then
    local n = redis.call('HINCRBY', attempts, id, 1)
    if n > maxRetries then
      give_up(id, 'lease expired ' .. n .. ' times; last holder ' .. who .. ' stopped renewing it (killed or hung)', active, job)
    else
      redis.call('RPUSH', pending, id)
      redis.call('HINCRBY', counts, 'retried', 1)
    end
  end
end
while true do
  local id = redis.call('RPOP', pending)
  if not id then break end
  if redis.call('GETBIT', done, id) == 0 and redis.call('HEXISTS', failed, id) == 0 then
    redis.call('ZADD', leases, now + leaseMs, id)
    redis.call('HSET', owner, id, worker)
    redis.call('HINCRBY', counts, 'handed', 1)
    return {'block', id}
  end
end
local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
if first[2] then return {'wait', tostring(math.max(0, tonumber(first[2]) - now))} end
return {'empty'}
`;

/** ARGV: block id, worker, active set key, job id. Idempotent: a second completion changes nothing. */
const COMPLETE = `${PRELUDE}
local id, worker, active, job = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', owner, id) == worker then
  redis.call('ZREM', leases, id)
  redis.call('HDEL', owner, id)
end
if redis.call('SETBIT', done, id, 1) == 0 then
  redis.call('HINCRBY', counts, 'done', 1)
  redis.call('HINCRBY', workers, worker, 1)
  -- a holder presumed dead finished after all: the block is no longer failed
  if redis.call('HDEL', failed, id) == 1 then redis.call('HINCRBY', counts, 'failed', -1) end
end
finish_if_done(active, job)
return 1
`;

/** ARGV: block id, worker, maxRetries, error text, active set key, job id. Returns 'retry' | 'give-up'. */
const FAIL = `${PRELUDE}
local id, worker, maxRetries, err, active, job = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
redis.call('ZREM', leases, id)
redis.call('HDEL', owner, id)
if redis.call('GETBIT', done, id) == 1 then return 'retry' end
local n = redis.call('HINCRBY', attempts, id, 1)
if n > maxRetries then
  give_up(id, 'failed ' .. n .. ' times; last error (' .. worker .. '): ' .. err, active, job)
  return 'give-up'
end
redis.call('RPUSH', pending, id)
redis.call('HINCRBY', counts, 'retried', 1)
return 'retry'
`;

/** ARGV: leaseMs, worker, ids... Extends the leases this worker still holds. */
const RENEW = `${PRELUDE}
local leaseMs, worker = tonumber(ARGV[1]), ARGV[2]
local n = 0
for i = 3, #ARGV do
  if redis.call('HGET', owner, ARGV[i]) == worker then
    redis.call('ZADD', leases, 'XX', now + leaseMs, ARGV[i])
    n = n + 1
  end
end
return n
`;

/** ARGV: worker, ids... Gives blocks back without counting an attempt (graceful shutdown). */
const RELEASE = `${PRELUDE}
local worker = ARGV[1]
for i = 2, #ARGV do
  if redis.call('HGET', owner, ARGV[i]) == worker then
    redis.call('ZREM', leases, ARGV[i])
    redis.call('HDEL', owner, ARGV[i])
    redis.call('RPUSH', pending, ARGV[i])
  end
end
return 1
`;

/** No ARGV. 1 when a worker could get a block now: something pending or a lease expired. */
const HAS_WORK = `${PRELUDE}
if redis.call('LLEN', pending) > 0 then return 1 end
if redis.call('ZCOUNT', leases, '-inf', now) > 0 then return 1 end
return 0
`;

const SCRIPTS = {
  emzooNext: NEXT,
  emzooComplete: COMPLETE,
  emzooFail: FAIL,
  emzooRenew: RENEW,
  emzooRelease: RELEASE,
  emzooHasWork: HAS_WORK,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const defined = new WeakSet<Redis>();

/** Runs one of the scripts (EVALSHA, loading it on first use) with the job's keys. */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: JobKeys,
  args: readonly (string | number)[],
): Promise<unknown> {
  if (!defined.has(redis)) {
    for (const [n, lua] of Object.entries(SCRIPTS)) {
      redis.defineCommand(n, { numberOfKeys: KEYS_ORDER.length, lua });
    }
    defined.add(redis);
  }
  const fn = (redis as unknown as Record<ScriptName, ScriptFn>)[name].bind(redis);
  return fn(...KEYS_ORDER.map((k) => keys[k]), ...args);
}
