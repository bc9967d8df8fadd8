-- Token bucket: takes ARGV[3] tokens from the bucket KEYS[1], a hash {tokens, at}.
-- ARGV: capacity, refill per second, cost, longest wait/expiry in ms.
-- Returns {allowed (1|0), whole tokens left, wait in ms}. Mirrors bucket.rs::take.
-- Time is Redis's own, so instances with skewed clocks agree.
if redis.replicate_commands then
  -- Redis < 5 replicates scripts verbatim and refuses writes after TIME without this.
  redis.replicate_commands()
end

local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_ms = tonumber(ARGV[4])
local epsilon = 1e-9

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = tokens + (now - at) * rate / 1000
  at = now
end
if tokens > capacity then
  tokens = capacity
end

local allowed = 0
local wait = 0
if cost <= capacity and tokens + epsilon >= cost then
  tokens = math.max(tokens - cost, 0)
  allowed = 1
elseif cost > capacity or rate <= 0 then
  wait = max_ms
else
  wait = math.min(math.ceil((cost - tokens) * 1000 / rate - epsilon), max_ms)
end

-- The key lives until the bucket would be full again (plus a second of slack): a missing
-- bucket is a full one, so idle keys vanish without changing any decision.
local ttl = max_ms
if rate > 0 then
  ttl = math.min(math.ceil((capacity - tokens) * 1000 / rate) + 1000, max_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', at)
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, math.floor(tokens + epsilon), wait}
