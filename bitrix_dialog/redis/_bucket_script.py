"""The shared leaky bucket's Lua script: every decision in one atomic round trip.

Redis state of one bucket (all keys share one ``{hash tag}``, so a cluster keeps
them on one node)::

    state      hash   d: answered requests still draining (as of t); t: Redis time;
                      seq: the queue's ticket counter; g: slots granted so far;
                      c, r: the learned capacity and drain estimates (absent: the plan's);
                      l: g when a refusal was last learned from
    inflight   zset   slot id -> lease end. Sent, no answer yet: held at 1, not draining
    reserved   zset   waiter id -> start. Promised a slot at that Redis time
    queue      zset   waiter id -> ticket. Waiting for an answer to come back first
    alive      zset   waiter id -> lease end of its place in the queue
    wake:ID    list   pushed when waiter ID's place in the queue became a reservation

The level is ``|inflight| + d``, as in the local ``LeakyBucket``; a slot may be
taken when ``|inflight| + d + |reserved| + 1 <= capacity``. Reservations count as
held so that nobody arriving later takes the room promised to an earlier waiter.
When the room can come from draining alone (``|inflight| + |reserved| + 1 <=
capacity``) the caller gets a reservation at the exact moment the drain makes its
room and sleeps until then. Otherwise it can only come from answers, so the caller
queues; a release turns the queue's head into a reservation and pushes its wake
list, which the waiter is blocked on (``BLPOP``). Nobody polls.

Leases keep a dead worker from wedging the bucket: an in-flight slot whose lease
ends is drained from the lease's end (the request reached the portal long before,
so this copy still never runs ahead of the portal); a reservation nobody claims
within the waiter lease, or a queued waiter that stopped renewing its place, is
dropped (nothing was sent for it).

A refusal (``refused``: the portal said ``QUERY_LIMIT_EXCEEDED`` to the request
sent with a slot, whose grant gave back the level it was taken at and its number)
fills the bucket as ``saturate`` does, and lowers the shared estimates by the rules
of :func:`bitrix_dialog._pacing._plan.learn`, with the same floors, so every worker
paces by what any one of them learned. The estimates live as long as the bucket's
keys: a bucket idle past its TTL starts from the plan again.

Time is the Redis server's ``TIME``, so the workers' clocks do not matter.
Numbers go back as strings: Redis truncates Lua numbers to integers. Every reply
ends with the capacity and drain estimates in force.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BUCKET_SCRIPT", "KEY_SUFFIXES"]

KEY_SUFFIXES: Final = ("state", "inflight", "reserved", "queue", "alive")
"""The suffixes of ``KEYS[1..5]``, in order."""

BUCKET_SCRIPT: Final = r"""
local op = ARGV[1]
local plan_cap = tonumber(ARGV[2])
local plan_rate = tonumber(ARGV[3])
local id = ARGV[4]
local slot_lease = tonumber(ARGV[5])
local waiter_lease = tonumber(ARGV[6])
local max_wait = tonumber(ARGV[7])
local ttl = tonumber(ARGV[8])
local wake_prefix = ARGV[9]
local EPS = 1e-6

local cap = math.min(plan_cap, tonumber(redis.call('HGET', KEYS[1], 'c') or plan_cap))
local rate = math.min(plan_rate, tonumber(redis.call('HGET', KEYS[1], 'r') or plan_rate))

local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000

local d = tonumber(redis.call('HGET', KEYS[1], 'd') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
if at == 0 then at = now end

local function drain_to(moment)
  if moment > at then
    d = math.max(0, d - (moment - at) * rate)
    at = moment
  end
end

local function num(x)
  return string.format('%.9f', x)
end

-- In-flight slots whose lease ended drain from the lease's end, in order.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES')
for i = 1, #expired, 2 do
  drain_to(tonumber(expired[i + 1]))
  d = d + 1
  redis.call('ZREM', KEYS[2], expired[i])
end
drain_to(now)

-- Reservations nobody claimed, queued waiters that stopped renewing: gone.
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - waiter_lease)
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for i = 1, #gone do
  redis.call('ZREM', KEYS[4], gone[i])
  redis.call('ZREM', KEYS[5], gone[i])
end

local function held()
  return redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
end

-- The queue's head becomes a reservation once draining alone can make its room,
-- behind every earlier reservation; its wake list tells the waiter.
local function promote()
  while true do
    local head = redis.call('ZRANGE', KEYS[4], 0, 0)
    if #head == 0 then return end
    local h = held()
    if h + 1 > cap + EPS then return end
    local start = now + math.max(0, h + d + 1 - cap) / rate
    redis.call('ZADD', KEYS[3], start, head[1])
    redis.call('ZREM', KEYS[4], head[1])
    redis.call('ZREM', KEYS[5], head[1])
    local wake = wake_prefix .. head[1]
    redis.call('RPUSH', wake, '1')
    redis.call('PEXPIRE', wake, ttl)
  end
end

local function take()
  local level = redis.call('ZCARD', KEYS[2]) + d
  local number = redis.call('HINCRBY', KEYS[1], 'g', 1)
  redis.call('ZADD', KEYS[2], now + slot_lease, id)
  return {'granted', num(level), tostring(number)}
end

local function saturate()
  local inflight = redis.call('ZCARD', KEYS[2])
  d = math.max(d, cap - inflight)
  -- Every reservation moves back behind the full bucket, keeping its order.
  local reserved = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
  for i = 1, #reserved, 2 do
    local ahead = (i - 1) / 2
    local start = now + math.max(0, inflight + d + ahead + 1 - cap) / rate
    if start > tonumber(reserved[i + 1]) then
      redis.call('ZADD', KEYS[3], start, reserved[i])
    end
  end
end

local result
if op == 'acquire' then
  redis.call('DEL', wake_prefix .. id)
  promote()
  local start = redis.call('ZSCORE', KEYS[3], id)
  if start then
    start = tonumber(start)
    if start <= now + EPS then
      redis.call('ZREM', KEYS[3], id)
      result = take()
    else
      result = {'wait', num(start - now)}
    end
  else
    local queued = redis.call('ZSCORE', KEYS[4], id)
    if not queued and redis.call('ZCARD', KEYS[4]) == 0 then
      local h = held()
      local need = h + d + 1 - cap
      if need <= EPS then
        result = take()
      elseif h + 1 <= cap + EPS then
        local wait = need / rate
        if max_wait >= 0 and wait > max_wait then
          result = {'timeout', num(wait)}
        else
          redis.call('ZADD', KEYS[3], now + wait, id)
          result = {'wait', num(wait)}
        end
      end
    end
    if result == nil and not queued and max_wait >= 0 and max_wait <= EPS then
      result = {'timeout', '-1'}
    end
    if result == nil then
      if not queued then
        redis.call('ZADD', KEYS[4], redis.call('HINCRBY', KEYS[1], 'seq', 1), id)
      end
      redis.call('ZADD', KEYS[5], now + waiter_lease, id)
      -- Block until woken, an in-flight lease ends, or it is time to renew the place.
      local hint = waiter_lease / 3
      local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
      if #first > 0 then hint = math.min(hint, tonumber(first[2]) - now) end
      result = {'queued', num(math.max(hint, 0.001))}
    end
  end
elseif op == 'release' then
  if redis.call('ZREM', KEYS[2], id) == 1 then d = d + 1 end
  promote()
  result = {'ok', '0'}
elseif op == 'cancel' then
  -- A caller cancelled while its grant was on the way back never sent anything.
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
  redis.call('DEL', wake_prefix .. id)
  promote()
  result = {'ok', '0'}
elseif op == 'saturate' then
  saturate()
  result = {'ok', '0'}
elseif op == 'refused' then
  -- ARGV[10..13]: the refused slot's level and number; the floors; the drain cut.
  local sent_level = tonumber(ARGV[10])
  local sent_number = tonumber(ARGV[11])
  local least_cap = tonumber(ARGV[12])
  local least_rate = tonumber(ARGV[13])
  local cut = tonumber(ARGV[14])
  local learned = tonumber(redis.call('HGET', KEYS[1], 'l') or '-1')
  if sent_level + 2 <= cap + EPS then
    cap = math.max(least_cap, math.ceil(sent_level - EPS), 1)
    redis.call('HSET', KEYS[1], 'c', cap)
  elseif learned >= 0 and sent_number > learned then
    rate = math.max(rate * cut, least_rate)
    redis.call('HSET', KEYS[1], 'r', num(rate))
  end
  redis.call('HSET', KEYS[1], 'l', redis.call('HGET', KEYS[1], 'g') or '0')
  saturate()
  result = {'ok', '0'}
elseif op == 'state' then
  result = {'state', num(d), tostring(redis.call('ZCARD', KEYS[2])),
            tostring(redis.call('ZCARD', KEYS[3])), tostring(redis.call('ZCARD', KEYS[4]))}
else
  return redis.error_reply('unknown operation ' .. op)
end

redis.call('HSET', KEYS[1], 'd', d, 't', at)
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
table.insert(result, tostring(cap))
table.insert(result, num(rate))
return result
"""
