-- Counts a failed sign-in. KEYS: the failure counter, the lock.
-- ARGV: window ms, failures that lock (0: never), lock ms.
-- The window starts at the first failure (the counter's expiry); reaching the threshold sets the
-- lock and drops the count, so after the lock the key starts afresh. Mirrors memory.rs.
if redis.call('EXISTS', KEYS[2]) == 1 then
  -- Locked: the caller refused this attempt unchecked; it neither counts nor extends the lock.
  return -1
end
local failures = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local lock_after = tonumber(ARGV[2])
if lock_after > 0 and failures >= lock_after then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
end
return failures
