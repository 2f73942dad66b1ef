"""The atomic moves of a job record, as Lua scripts Redis runs in one step each.

Each script checks the job's status (and, for a worker, that its delivery is still the job's
current one) before it changes anything, so a cancel, a worker's progress, a lease sweep and
a late duplicate message can never undo each other. Deadlines come from the Redis server's
clock (`TIME`), never a caller's: two hosts whose clocks disagree still agree on every lease.

Statuses, stages and key prefixes are not spelled here: every script starts with a prelude
generated from `record.JobStatus` and `layout`, so Python and Lua share one list.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import redis

from workers.jobs import layout
from workers.jobs.record import JobStatus, Progress


def _lua(value: str | int) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "\\'") + "'"


def _prelude() -> str:
    constants: dict[str, str | int] = {status.name: status.value for status in JobStatus}
    constants |= {
        name: getattr(layout, name)
        for name in dir(layout)
        if name.startswith(("STAGE_", "DEDUPE_PREFIX", "JOB_ENDS_MAX"))
    }
    lines = [f"local {name} = {_lua(value)}" for name, value in sorted(constants.items())]
    # The progress a move writes: Progress's own fields, nothing done yet.
    names = [f.name for f in fields(Progress)]
    assert names == ["done", "total", "stage", "attempt"], names
    lines += [
        "local function now_ms()",
        "  local t = redis.call('TIME')",
        "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)",
        "end",
        "local function progress(stage, attempt)",
        "  return cjson.encode({done=0, total=0, stage=stage, attempt=attempt})",
        "end",
        "local function active(status) return status == QUEUED or status == RUNNING end",
    ]
    return "\n".join(lines) + "\n"


PRELUDE = _prelude()

# KEYS: job hash, input, leases. ARGV: ttl s, check ms ('' = no lease entry yet), has input
# (1/0), input bytes, then the record's field/value pairs. A new job; with a check time, its
# lease entry is the check that its message reached the broker.
CREATE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[1])
if ARGV[3] == '1' then redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[1]) end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[3], now_ms() + tonumber(ARGV[2]), redis.call('HGET', KEYS[1], 'id'))
end
return 1
"""

# KEYS: job hash, leases. ARGV: job id, check ms. A job that won its dedupe claim enters the
# lease set, where workers batching articles and the sweeper can see it.
ENQUEUE = """
if redis.call('HGET', KEYS[1], 'status') ~= QUEUED then return 0 end
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1
"""

# KEYS: job hash, leases, running set. ARGV: delivery, lease ms, max attempts, worker, now
# iso, job id. Claims the job for this delivery: {RUNNING, attempt}, or why not: "gone", a
# final status, "stale" (another delivery is current), "busy" (this delivery's message came
# twice, and a worker still holds the job's lease: a broker redelivered a message whose run
# goes on), "exhausted" (attempt cap reached). A running job whose lease has lapsed is taken
# over by its own delivery's message (its worker process died and Celery requeued it).
START = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'gone', 0} end
if not active(status) then return {status, 0} end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return {'stale', 0} end
local now = now_ms()
if status == RUNNING and tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0') > now then
  return {'busy', 0}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[3]) then return {'exhausted', attempts} end
local deadline = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'status', RUNNING, 'worker', ARGV[4], 'lease_until', deadline,
           'progress', progress(STAGE_STARTING, attempts), 'updated_at', ARGV[5],
           'started_at', ARGV[5])
redis.call('ZADD', KEYS[2], deadline, ARGV[6])
redis.call('SADD', KEYS[3], ARGV[6])
return {RUNNING, attempts}
"""

# KEYS: leases, running set. ARGV: lease ms, worker, now iso, delivery prefix, how many,
# bytes budget, how many leases to look at, job key prefix, worker processes that take
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
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[7]) - 1)) do
  local key = ARGV[8] .. id
  local job = redis.call('HMGET', key, 'status', 'options', 'size', 'attempts')
  if job[1] == QUEUED and job[3] and tonumber(job[4] or '0') == 0
     and cjson.decode(job[2]).kind == 'article'
     and redis.call('EXISTS', key .. ':input') == 1 then
    table.insert(waiting, {id, tonumber(job[3])})
  end
end
local held = tonumber(ARGV[10])
local share = math.ceil((#waiting + 1 + held) / math.max(1, tonumber(ARGV[9]))) - 1 - held
local wanted = math.min(tonumber(ARGV[5]), share)
local found = {}
local budget = tonumber(ARGV[6])
local deadline = now_ms() + tonumber(ARGV[1])
for _, entry in ipairs(waiting) do
  if #found >= wanted then break end
  local id, size = entry[1], entry[2]
  if size <= budget then
    local key = ARGV[8] .. id
    budget = budget - size
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    local delivery = ARGV[4] .. '.' .. (#found + 1)
    redis.call('HSET', key, 'status', RUNNING, 'delivery', delivery, 'worker', ARGV[2],
               'lease_until', deadline, 'progress', progress(STAGE_STARTING, attempts),
               'updated_at', ARGV[3], 'started_at', ARGV[3])
    redis.call('ZADD', KEYS[1], deadline, id)
    redis.call('SADD', KEYS[2], id)
    table.insert(found, {id, delivery, attempts, size})
  end
end
return found
"""

# KEYS: job hash, leases. ARGV: delivery, lease ms, job id, progress json or '', now iso.
# Renews a running job's lease (and stores its progress) while this delivery is the current
# one. Returns the status found, or "stale". A lease that lapsed is renewed all the same while
# no sweeper has given the job to another delivery: its worker was only cut off for a while.
RENEW = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'gone' end
if status ~= RUNNING then return status end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return 'stale' end
local deadline = now_ms() + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'lease_until', deadline)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[4], 'updated_at', ARGV[5]) end
redis.call('ZADD', KEYS[2], deadline, ARGV[3])
return status
"""

# KEYS: job hash, leases, running set. ARGV: delivery, new delivery, check ms, job id, now iso.
# A running job handed back by its worker (a warm shutdown, a batch whose time ran out before
# this job's did) is queued again under a new delivery, and the start it made is not counted
# as an attempt: it did not fail. 1, or 0 when the delivery is no longer the job's.
HANDBACK = """
if redis.call('HGET', KEYS[1], 'status') ~= RUNNING then return 0 end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return 0 end
local attempts = math.max(0, redis.call('HINCRBY', KEYS[1], 'attempts', -1))
redis.call('HSET', KEYS[1], 'status', QUEUED, 'delivery', ARGV[2], 'worker', '',
           'attempts', attempts, 'progress', progress(STAGE_QUEUED, attempts),
           'updated_at', ARGV[5])
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[3]), ARGV[4])
redis.call('SREM', KEYS[3], ARGV[4])
return 1
"""

# KEYS: job hash, leases. ARGV: delivery, job id. The worker process running this delivery
# died (its worker's main process saw it): the lease lapses now, so the job's message,
# requeued by Celery, or the sweeper can start it again at once. 1, or 0 if it moved on.
LAPSE = """
if redis.call('HGET', KEYS[1], 'status') ~= RUNNING then return 0 end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', 0)
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
"""

# KEYS: leases. ARGV: how many. The jobs whose lease (or message check) is due now.
DUE = """
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
"""

# KEYS: job hash, leases, running set. ARGV: job id, new delivery, check ms, max attempts, now
# iso, grace (1: the server restarted within a lease, so running jobs' workers have not had the
# time to renew). For a job whose lease entry is due: {"fresh"} (not due after all), {"gone"}
# (over: its entry is dropped), {"exhausted", worker, attempts} (its worker died on the last
# allowed attempt), {"check", delivery} (queued: is its message still in the broker?), or
# {"requeue", new delivery, worker} (running with an expired lease: queued again).
EXPIRE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not active(status) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[1])
  return {'gone'}
end
local now = now_ms()
local due = redis.call('ZSCORE', KEYS[2], ARGV[1])
if due and tonumber(due) > now then return {'fresh'} end
if status == QUEUED then return {'check', redis.call('HGET', KEYS[1], 'delivery')} end
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
if lease > now then
  redis.call('ZADD', KEYS[2], lease, ARGV[1])
  return {'fresh'}
end
if ARGV[6] == '1' then return {'fresh'} end
local worker = redis.call('HGET', KEYS[1], 'worker') or ''
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= tonumber(ARGV[4]) then return {'exhausted', worker, attempts} end
redis.call('HSET', KEYS[1], 'status', QUEUED, 'delivery', ARGV[2], 'worker', '',
           'progress', progress(STAGE_REQUEUED, attempts), 'updated_at', ARGV[5],
           'last_lost', worker)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return {'requeue', ARGV[2], worker}
"""

# KEYS: job hash, leases. ARGV: old delivery, new delivery, check ms, job id, now iso.
# Gives a queued job whose message is lost a new delivery (1), unless it moved meanwhile (0).
REDELIVER = """
if redis.call('HGET', KEYS[1], 'status') ~= QUEUED then return 0 end
if redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'delivery', ARGV[2], 'updated_at', ARGV[5])
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[3]), ARGV[4])
return 1
"""

# KEYS: job hash, leases. ARGV: job id, check ms, most checks to wait. A queued job whose
# message was found waiting: looked at again later, each time twice as late (up to a limit).
RECHECK = """
local seen = redis.call('HINCRBY', KEYS[1], 'checks', 1)
local later = tonumber(ARGV[2]) * math.min(tonumber(ARGV[3]), 2 ^ seen)
return redis.call('ZADD', KEYS[2], 'XX', now_ms() + later, ARGV[1])
"""

# KEYS: job hash. 1 when a second identical submission may join this job: it is queued, or
# running under a lease that has not lapsed (a job whose worker died is never joined).
JOINABLE = """
local job = redis.call('HMGET', KEYS[1], 'status', 'lease_until')
if job[1] == QUEUED then return 1 end
if job[1] == RUNNING and tonumber(job[2] or '0') > now_ms() then return 1 end
return 0
"""

# KEYS: job hash, input, leases, job-end stream, running set, file. ARGV: final status, job id,
# now iso, delivery ('' = whoever ends it: the API, the sweeper, the cache), file bytes ('' =
# none), file media type, billed characters, error code, ttl s, figures (JSON: seconds,
# sentences and flags by code, for metrics), then field/value pairs. The one move
# to a final status: only from queued or running, and, for a worker, only while its delivery
# is the job's; stores a document's file, drops the input, the lease and the dedupe claim, and
# appends the end (with what its consequences need: the key, its reservation, the callback)
# to the stream, all at once. "ended", "stale", or the status found.
END = """
local status = redis.call('HGET', KEYS[1], 'status')
if not active(status) then return status or 'gone' end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'delivery') ~= ARGV[4] then return 'stale' end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[3], unpack(ARGV, 11))
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[6], ARGV[5], 'EX', ARGV[9])
  redis.call('HSET', KEYS[1], 'file_type', ARGV[6])
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('SREM', KEYS[5], ARGV[2])
local job = redis.call('HMGET', KEYS[1], 'dedupe_key', 'api_key', 'reserved', 'reserved_month',
                       'callback_url', 'attempts', 'request_id')
if job[1] and job[1] ~= '' then
  local claim = DEDUPE_PREFIX .. job[1]
  if redis.call('GET', claim) == ARGV[2] then redis.call('DEL', claim) end
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', JOB_ENDS_MAX, '*', 'job', ARGV[2],
           'status', ARGV[1], 'code', ARGV[8], 'key', job[2] or '', 'reserved', job[3] or '0',
           'month', job[4] or '', 'billed', ARGV[7],
           'callback', (job[5] and job[5] ~= '') and '1' or '0', 'attempts', job[6] or '0',
           'figures', ARGV[10], 'request', job[7] or '')
return 'ended'
"""

# Delete a dedupe claim only if it still names this job.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

NAMES = (
    "CREATE", "ENQUEUE", "START", "CLAIM", "RENEW", "HANDBACK", "LAPSE", "DUE", "EXPIRE",
    "REDELIVER",
    "RECHECK", "JOINABLE", "END", "RELEASE",
)  # fmt: skip


class Scripts:
    """The scripts registered on one client: `scripts.run("END", keys, args)`."""

    def __init__(self, client: redis.Redis) -> None:
        self._registered = {
            name: client.register_script(PRELUDE + globals()[name]) for name in NAMES
        }

    def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return self._registered[name](keys=keys, args=args)
