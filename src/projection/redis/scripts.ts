/*
 * The two atomic writes of the Redis projection. Every key arrives in KEYS (so ioredis'
 * keyPrefix applies to them), every position is a decimal string compared as a Lua number
 * (exact below 2^53).
 */

/**
 * Applies a folded batch to one generation, with its checkpoint, in one step.
 *
 * KEYS: generation pointer, checkpoint of the generation, then per user: document, records…
 * ARGV: expected live generation ('*' = no check: a rebuild writes its own), the position the
 *       batch was read after ('-1' = unknown), last position of the batch, user count, then per
 *       user: base position, new position, document, record count, then per record: value
 *       ('' = delete), expiry as epoch ms ('0' = none).
 *
 * A checkpoint behind the position the batch was read after means the generation was reset
 * meanwhile: GAP, nothing written.
 *
 * Per user, the stored document decides: at `base` → write; already at or past the new
 * position → skip (another projector applied the same events, and the fold is deterministic);
 * anything else → CONFLICT and nothing is written (the caller re-reads and folds again).
 */
export const APPLY_SCRIPT = `
if ARGV[1] ~= '*' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'GEN' end
local checkpoint = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > checkpoint then return 'GAP' end
local users = tonumber(ARGV[4])
local skip = {}
local k, a = 3, 5
for u = 1, users do
  local n = tonumber(ARGV[a + 3])
  local stored = redis.call('GET', KEYS[k])
  local pos = 0
  if stored then pos = tonumber(string.match(stored, '^%[(%d+)')) or -1 end
  if pos >= tonumber(ARGV[a + 1]) then skip[u] = true
  elseif pos ~= tonumber(ARGV[a]) then return 'CONFLICT' end
  k = k + 1 + n
  a = a + 4 + 2 * n
end
k, a = 3, 5
for u = 1, users do
  local n = tonumber(ARGV[a + 3])
  if not skip[u] then
    redis.call('SET', KEYS[k], ARGV[a + 2])
    for r = 1, n do
      local value, expiry = ARGV[a + 2 + 2 * r], ARGV[a + 3 + 2 * r]
      if value == '' then redis.call('DEL', KEYS[k + r])
      elseif expiry == '0' then redis.call('SET', KEYS[k + r], value)
      else redis.call('SET', KEYS[k + r], value, 'PXAT', expiry) end
    end
  end
  k = k + 1 + n
  a = a + 4 + 2 * n
end
if tonumber(ARGV[3]) > checkpoint then redis.call('SET', KEYS[2], ARGV[3]) end
return 'OK'
`;

/**
 * Makes a rebuilt generation the live one, if it is at least as far as the live one. The old
 * generation joins the set of generations to delete in the same step, so a crash before its
 * deletion leaves it to the next rebuild instead of leaking it.
 *
 * KEYS: generation pointer, checkpoint of the new generation, checkpoint of the live one,
 *       set of non-live generations, lease of the new generation.
 * ARGV: the live generation the caller saw ('' = none), the new generation, '1' to switch
 *       regardless of checkpoints.
 */
export const SWITCH_SCRIPT = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 'GEN' end
if ARGV[3] ~= '1' and tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(redis.call('GET', KEYS[3]) or '0') then
  return 'BEHIND'
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[4], ARGV[2])
if ARGV[1] ~= '' then redis.call('SADD', KEYS[4], ARGV[1]) end
redis.call('DEL', KEYS[5])
return 'OK'
`;

/**
 * Sets many keys with their own expiry in one command (MSET has no expiry): what a rebuild
 * writes for expiring tokens and secrets in grace. KEYS: the keys; ARGV: value, epoch ms, …
 */
export const BULK_SET_SCRIPT = `
for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[2 * i - 1], 'PXAT', ARGV[2 * i]) end
return #KEYS
`;
