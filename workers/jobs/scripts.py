"""The atomic moves of a job record, as Lua scripts Redis runs in one step each.

Keys are those of `workers/jobs.py`. Each script checks the job's status (and, for a worker,
that its delivery is still the job's current one) before it changes anything, so a cancel, a
worker's progress, a lease sweep and a late duplicate message can never undo each other.
"""

# KEYS: job hash, leases, running set. ARGV: delivery, now ms, lease ms, max attempts,
# worker, now iso, job id. Claims the job for this delivery: {"running", attempt}, or why
# not: "gone", a final status, "stale" (another delivery is current), "exhausted" (attempt
# cap reached).
START = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'gone', 0} end
if status ~= 'queued' and status ~= 'running' then return {status, 0} end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return {'stale', 0} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[4]) then return {'exhausted', attempts} end
local deadline = tonumber(ARGV[2]) + tonumber(ARGV[3])
local progress = cjson.encode({done=0, total=0, stage='starting', attempt=attempts})
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[5], 'lease_until', deadline,
           'progress', progress, 'updated_at', ARGV[6], 'started_at', ARGV[6])
redis.call('ZADD', KEYS[2], deadline, ARGV[7])
redis.call('SADD', KEYS[3], ARGV[7])
return {'running', attempts}
"""

# KEYS: leases, running set. ARGV: now ms, lease ms, worker, now iso, delivery prefix, how
# many, bytes budget, how many leases to look at, job key prefix, worker processes that take
# articles, how many this batch holds already. Claims queued article jobs for a worker that
# takes them together with its own (cross-article batching): the oldest first (a queued
# job's lease entry is its message check, due in creation order), within the bytes budget,
# none whose input is gone, and none that ever started: a job whose worker died runs alone
# after that, so an article that kills its worker takes no other down with it. It takes no
# more than this worker's share of what waits (its own job and what it holds included), so
# that with several workers none sits idle while another holds the queue. Each gets a
# delivery of its own, so its own message, when it arrives, finds itself stale; if the worker
# dies, the lease lapses and the sweeper queues the job again. Returns {id, delivery,
# attempt, size} for each.
CLAIM = """
local waiting = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[8]) - 1)) do
  local key = ARGV[9] .. id
  local job = redis.call('HMGET', key, 'status', 'options', 'size', 'attempts')
  if job[1] == 'queued' and job[3] and tonumber(job[4] or '0') == 0
     and cjson.decode(job[2]).kind == 'article'
     and redis.call('EXISTS', key .. ':input') == 1 then
    table.insert(waiting, {id, tonumber(job[3])})
  end
end
local held = tonumber(ARGV[11])
local share = math.ceil((#waiting + 1 + held) / math.max(1, tonumber(ARGV[10]))) - 1 - held
local wanted = math.min(tonumber(ARGV[6]), share)
local found = {}
local budget = tonumber(ARGV[7])
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, entry in ipairs(waiting) do
  if #found >= wanted then break end
  local id, size = entry[1], entry[2]
  if size <= budget then
    local key = ARGV[9] .. id
    budget = budget - size
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    local delivery = ARGV[5] .. '.' .. (#found + 1)
    local progress = cjson.encode({done=0, total=0, stage='starting', attempt=attempts})
    redis.call('HSET', key, 'status', 'running', 'delivery', delivery, 'worker', ARGV[3],
               'lease_until', deadline, 'progress', progress, 'updated_at', ARGV[4],
               'started_at', ARGV[4])
    redis.call('ZADD', KEYS[1], deadline, id)
    redis.call('SADD', KEYS[2], id)
    table.insert(found, {id, delivery, attempts, size})
  end
end
return found
"""

# KEYS: job hash, leases. ARGV: delivery, lease deadline ms, job id, progress json or '',
# now iso. Renews a running job's lease (and stores its progress) while this delivery is the
# current one. Returns the status found, or "stale".
RENEW = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'gone' end
if status ~= 'running' then return status end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return 'stale' end
redis.call('HSET', KEYS[1], 'lease_until', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[4], 'updated_at', ARGV[5]) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return status
"""

# KEYS: job hash, leases, running set. ARGV: now ms, job id, new delivery, next check ms,
# max attempts, now iso. For a job whose lease entry is due: "fresh" (not due after all),
# "gone" (over: its entry is dropped), "exhausted" (its worker died on the last allowed
# attempt), "check" + delivery (queued: is its message still in the broker?), or "requeue" +
# the new delivery (running with an expired lease: queued again under a new delivery).
EXPIRE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[2])
  return {'gone', ''}
end
local due = redis.call('ZSCORE', KEYS[2], ARGV[2])
if due and tonumber(due) > tonumber(ARGV[1]) then return {'fresh', ''} end
if status == 'queued' then return {'check', redis.call('HGET', KEYS[1], 'delivery')} end
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
if lease > tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[2], lease, ARGV[2])
  return {'fresh', ''}
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= tonumber(ARGV[5]) then return {'exhausted', ''} end
local progress = cjson.encode({done=0, total=0, stage='requeued', attempt=attempts})
redis.call('HSET', KEYS[1], 'status', 'queued', 'delivery', ARGV[3], 'worker', '',
           'progress', progress, 'updated_at', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[2])
return {'requeue', ARGV[3]}
"""

# KEYS: job hash, leases. ARGV: old delivery, new delivery, next check ms, job id, now iso.
# Gives a queued job whose message is lost a new delivery (1), unless it moved meanwhile (0).
REDELIVER = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'delivery', ARGV[2], 'updated_at', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
"""

# KEYS: job hash, input, leases, job-end stream, running set. ARGV: final status, job id, now iso,
# max stream length, then field/value pairs. The one move to a final status: only from
# queued or running; drops the input, the lease and the dedupe claim, and appends the end to
# the stream, all at once. 1 if it ended the job.
END = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[3], unpack(ARGV, 5))
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('SREM', KEYS[5], ARGV[2])
local dedupe = redis.call('HGET', KEYS[1], 'dedupe_key')
if dedupe and dedupe ~= '' then
  local claim = 'vertaal:inflight:' .. dedupe
  if redis.call('GET', claim) == ARGV[2] then redis.call('DEL', claim) end
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'job', ARGV[2], 'status', ARGV[1])
return 1
"""

# Delete a dedupe claim only if it still names this job.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
