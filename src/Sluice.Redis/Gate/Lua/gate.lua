-- One partition's shared gate. Every call is one atomic script over the partition's keys (one hash tag).
-- KEYS: 1 state (hash), 2 slots (zset lease -> expiry ms), 3 requests-per-day buckets (hash minute -> amount),
--       4 tokens-per-day buckets, 5 waiting processes (zset member -> expiry ms), 6 wake channel.
-- ARGV: 1 op, 2 now (ms, the caller's clock), 3 learn (1/0), 4 max concurrency, 5 request rate/s, 6 request burst,
--       7 token rate/s, 8 token burst, 9 input rate/s, 10 output rate/s, 11 requests/day, 12 tokens/day ('' = none),
--       13 the calling member (its own announcements are not news to it), 14.. op arguments.
-- Numbers go back as strings: Redis truncates Lua numbers to integers.
local op = ARGV[1]
local s = {}
do
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1] end
end
local changed = {}
local function get(f) return tonumber(s[f]) end
local function put(f, v) s[f] = v; changed[f] = true end

-- Time never runs backwards: a caller whose clock is behind the latest seen uses the latest.
local now = tonumber(ARGV[2])
local seen = get('now') or 0
if now < seen then now = seen else put('now', now) end

local DAY = 86400000
local MINUTE = 60000
local EPS = 1e-9
local learn = ARGV[3] == '1'
local function num(i) local v = ARGV[i]; if v == nil or v == '' then return nil end return tonumber(v) end

-- The strictest of the configured rate and (when learning) the one the provider's headers stated, shared.
local function inforce(configured, hfield)
  local h = learn and get(hfield) or nil
  if h and (configured == nil or h < configured) then return h, 2 end
  if configured then return configured, 1 end
  return nil, 0
end

local dims = {}
do
  local r, rs = inforce(num(5), 'rh')
  if r then
    local burst = num(6) or math.max(1, r)
    dims[#dims + 1] = { f = 'r', rate = r, cap = math.max(1, math.floor(burst)), src = rs, dim = 0 }
  end
  local t, ts = inforce(num(7), 'th')
  if t then dims[#dims + 1] = { f = 't', rate = t, cap = math.max(1, num(8) or math.max(1, t)), src = ts, dim = 1 } end
  local i, is = inforce(num(9), 'ih')
  if i then dims[#dims + 1] = { f = 'i', rate = i, cap = math.max(1, i), src = is, dim = 2 } end
  local o, os = inforce(num(10), 'oh')
  if o then dims[#dims + 1] = { f = 'o', rate = o, cap = math.max(1, o), src = os, dim = 3 } end
end

local function daylimit(configured, hfield)
  local h = learn and get(hfield) or nil
  if h and (configured == nil or h < configured) then return h, 2 end
  if configured then return configured, 1 end
  return nil, 0
end
local days = {}
do
  local rl, rs = daylimit(num(11), 'Rh')
  if rl then days[#days + 1] = { f = 'R', key = KEYS[3], limit = rl, src = rs, dim = 4 } end
  local tl, ts = daylimit(num(12), 'Th')
  if tl then days[#days + 1] = { f = 'T', key = KEYS[4], limit = tl, src = ts, dim = 5 } end
end

-- A bucket refills continuously; the provider's view may slow it until its reset instant.
local function refill(d)
  local l = get(d.f .. 'l')
  local u = get(d.f .. 'u')
  if l == nil or u == nil then l = d.cap; u = now end
  if now > u then
    local sr = get(d.f .. 'sr') or 0
    local su = get(d.f .. 'su') or 0
    local gained
    if su > u then
      local slowEnd = math.min(now, su)
      gained = (slowEnd - u) / 1000 * sr
      if now > slowEnd then gained = gained + (now - slowEnd) / 1000 * d.rate end
    else
      gained = (now - u) / 1000 * d.rate
    end
    l = l + gained
  end
  if l > d.cap then l = d.cap end
  d.level = l
  put(d.f .. 'l', l); put(d.f .. 'u', now)
end

-- Milliseconds until cost can be spent; -1: never without a change.
local function bucketwait(d, cost)
  local needed = math.min(cost, d.cap) - d.level
  if needed <= EPS then return 0 end
  local ms = 0
  local su = get(d.f .. 'su') or 0
  if su > now then
    local sr = get(d.f .. 'sr') or 0
    local slowGain = (su - now) / 1000 * sr
    if slowGain >= needed then return needed / sr * 1000 end
    needed = needed - slowGain
    ms = su - now
  end
  if d.rate <= 0 then return -1 end
  return ms + needed / d.rate * 1000
end

-- A day is kept in one-minute buckets, each counted until a day after its minute ends: no 24 hours hold more than the limit.
local function dayexpire(w)
  local first = get(w.f .. 'first')
  local used = get(w.f .. 'used') or 0
  local last = math.floor((now - DAY) / MINUTE) - 1
  if first == nil then first = last + 1 end
  if last - first > 1500 then
    redis.call('DEL', w.key); used = 0; first = last + 1
  else
    while first <= last do
      local a = tonumber(redis.call('HGET', w.key, first) or '0') or 0
      if a ~= 0 then used = used - a; redis.call('HDEL', w.key, first) end
      first = first + 1
    end
  end
  if used < EPS and redis.call('HLEN', w.key) == 0 then used = 0 end
  w.used = used; w.first = first
  put(w.f .. 'used', used); put(w.f .. 'first', first)
end

local function dayavailable(w)
  local left = w.limit - w.used
  local su = get(w.f .. 'su') or 0
  if now < su then left = math.min(left, get(w.f .. 'sl') or left) end
  return left
end

local function daywait(w, cost)
  local need = math.min(cost, w.limit)
  local at = now
  local su = get(w.f .. 'su') or 0
  if now < su and need > (get(w.f .. 'sl') or 0) + EPS then at = su end
  local used = w.used
  local b = w.first
  local current = math.floor(now / MINUTE)
  while used + need > w.limit + EPS and b <= current do
    local a = tonumber(redis.call('HGET', w.key, b) or '0') or 0
    if a ~= 0 then
      local out = (b + 1) * MINUTE + DAY
      if out > at then at = out end
      used = used - a
    end
    b = b + 1
  end
  return at - now
end

local function dayspend(w, cost)
  local b = math.floor(now / MINUTE)
  redis.call('HINCRBYFLOAT', w.key, b, cost)
  put(w.f .. 'used', w.used + cost)
  local su = get(w.f .. 'su') or 0
  if now < su then put(w.f .. 'sl', (get(w.f .. 'sl') or 0) - cost) end
  return b
end

local function costof(d, c)
  if d.f == 'r' then return 1 elseif d.f == 't' then return c[1] elseif d.f == 'i' then return c[2] else return c[3] end
end

local function save()
  local args = {}
  for f, _ in pairs(changed) do
    args[#args + 1] = f
    local v = s[f]
    if type(v) == 'number' then v = string.format('%.17g', v) end
    args[#args + 1] = v
  end
  if #args > 0 then redis.call('HSET', KEYS[1], unpack(args)) end
end

local function wake(kind)
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  if redis.call('ZCARD', KEYS[5]) > 0 then redis.call('PUBLISH', KEYS[6], kind .. ARGV[13]) end
end

local function inflight()
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
  return redis.call('ZCARD', KEYS[2])
end

local function climit() return get('cl') or tonumber(ARGV[4]) end

local function fmt(v) return string.format('%.17g', v) end

-- What a per-day budget still allows, for the local share should Redis go away; '' without one.
local function dayleft(f)
  for _, w in ipairs(days) do
    if w.f == f then
      w.used = get(f .. 'used') or w.used
      return fmt(dayavailable(w))
    end
  end
  return ''
end

local function run()
if op == 'admit' or op == 'try' then
  -- 14 lease id, 15 ttl ms, 16 tokens, 17 input, 18 output, 19 member, 20 callers still waiting behind this one here
  if s['stop'] then return { 'stop', fmt(now), s['stop'] } end
  local cost = { tonumber(ARGV[16]), tonumber(ARGV[17]), tonumber(ARGV[18]) }
  local at = now
  local pause = get('pause') or 0
  if pause > at then at = pause end
  local held = inflight()
  local lim = climit()
  local slotbound = 0
  if held >= lim then
    slotbound = 1
    local firstSlot = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    local expiry = tonumber(firstSlot[2])
    if expiry > at then at = expiry end
  end
  local never = false
  for _, d in ipairs(dims) do
    refill(d)
    local c = costof(d, cost)
    if c > 0 then
      local w = bucketwait(d, c)
      if w < 0 then never = true elseif now + w > at then at = now + w end
    end
  end
  for _, w in ipairs(days) do
    dayexpire(w)
    local c = (w.f == 'R') and 1 or cost[1]
    if c > 0 then
      local ms = daywait(w, c)
      if now + ms > at then at = now + ms end
    end
  end
  if at <= now and not never and slotbound == 0 then
    for _, d in ipairs(dims) do
      local c = costof(d, cost)
      if c > 0 then put(d.f .. 'l', d.level - c) end
    end
    local bucket = -1
    for _, w in ipairs(days) do
      local c = (w.f == 'R') and 1 or cost[1]
      if c > 0 then
        local b = dayspend(w, c)
        if w.f == 'T' then bucket = b end
      end
    end
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[15]), ARGV[14])
    if op == 'admit' and tonumber(ARGV[20]) == 0 then redis.call('ZREM', KEYS[5], ARGV[13]) end
    save()
    return { 'ok', fmt(now), tostring(bucket), tostring(held + 1), tostring(lim), dayleft('R'), dayleft('T') }
  end
  if op == 'admit' then redis.call('ZADD', KEYS[5], now + tonumber(ARGV[15]), ARGV[13]) end
  save()
  if never then at = -1 end
  return { 'wait', fmt(now), fmt(at), tostring(slotbound), tostring(held), tostring(lim), dayleft('R'), dayleft('T') }
elseif op == 'release' then
  -- 14 lease id
  -- Only a waiter held back by the slots gains from a release: announce it only when they were all taken.
  local full = inflight() >= climit()
  local removed = redis.call('ZREM', KEYS[2], ARGV[14])
  if removed > 0 and full then wake('w') end
  return { 'ok', fmt(now), tostring(removed) }
elseif op == 'settle' then
  -- 14 dimension (1 tokens, 2 input, 3 output), 15 delta, 16 per-day bucket of the admission (-1 none)
  local dim = tonumber(ARGV[14])
  local delta = tonumber(ARGV[15])
  for _, d in ipairs(dims) do
    if d.dim == dim then refill(d); local l = d.level - delta; if l > d.cap then l = d.cap end; put(d.f .. 'l', l) end
  end
  local b = tonumber(ARGV[16])
  if dim == 1 and b >= 0 then
    for _, w in ipairs(days) do
      if w.f == 'T' then
        dayexpire(w)
        if b >= w.first then
          local old = tonumber(redis.call('HGET', w.key, b) or '0') or 0
          local new = math.max(0, old + delta)
          redis.call('HSET', w.key, b, fmt(new))
          put('Tused', w.used + new - old)
          local su = get('Tsu') or 0
          if now < su then put('Tsl', (get('Tsl') or 0) - delta) end
        end
      end
    end
  end
  save()
  if delta < 0 then wake('w') end
  return { 'ok', fmt(now) }
elseif op == 'observe' then
  -- 14 dimension (0..5), 15 remaining, 16 reset ms, 17 stated limit ('' none), 18 counted since ms ('' none)
  local dim = tonumber(ARGV[14])
  local remaining = tonumber(ARGV[15])
  local reset = tonumber(ARGV[16])
  local limit = num(17)
  local since = num(18)
  local names = { [0] = 'r', [1] = 't', [2] = 'i', [3] = 'o', [4] = 'R', [5] = 'T' }
  local f = names[dim]
  local learned = false
  if learn and limit then
    local stated = (dim >= 4) and limit or (limit / 60)
    if get(f .. 'h') ~= stated then put(f .. 'h', stated); learned = true end
  end
  if dim <= 3 then
    if learned then
      -- Re-read the rate in force with the stated limit.
      local configured = ({ [0] = num(5), [1] = num(7), [2] = num(9), [3] = num(10) })[dim]
      local r, src = inforce(configured, f .. 'h')
      local found = false
      for _, d in ipairs(dims) do
        if d.f == f then
          d.rate = r; d.src = src; found = true
          if f == 'r' then d.cap = math.max(1, math.floor(num(6) or math.max(1, r)))
          elseif f == 't' then d.cap = math.max(1, num(8) or math.max(1, r))
          else d.cap = math.max(1, r) end
        end
      end
      if not found then
        local cap
        if f == 'r' then cap = math.max(1, math.floor(num(6) or math.max(1, r)))
        elseif f == 't' then cap = math.max(1, num(8) or math.max(1, r))
        else cap = math.max(1, r) end
        dims[#dims + 1] = { f = f, rate = r, cap = cap, src = src, dim = dim }
      end
    end
    for _, d in ipairs(dims) do
      if d.f == f then
        refill(d)
        if reset > now and remaining >= 0 then
          local refilled = 0
          if since and since < now then refilled = (now - since) / 1000 * d.rate end
          if remaining + refilled < d.level then put(f .. 'l', remaining + refilled) end
          local implied = math.max(0, (limit or d.rate * 60) - remaining) / ((reset - now) / 1000)
          if implied < d.rate then put(f .. 'sr', implied); put(f .. 'su', reset) end
        end
      end
    end
  else
    if reset > now and remaining >= 0 then
      local su = get(f .. 'su') or 0
      local left = remaining
      if now < su then left = math.min(get(f .. 'sl') or remaining, remaining) end
      put(f .. 'sl', left)
      if reset > su then put(f .. 'su', reset) end
    end
  end
  save()
  if learned then wake('w') end
  return { 'ok', fmt(now), learned and '1' or '0' }
elseif op == 'pause' then
  -- 14 until ms
  local until_ = tonumber(ARGV[14])
  if until_ > (get('pause') or 0) then put('pause', until_) end
  save()
  return { 'ok', fmt(now), fmt(get('pause') or 0) }
elseif op == 'stop' then
  put('stop', ARGV[14])
  save()
  redis.call('PUBLISH', KEYS[6], 's' .. ARGV[14])
  return { 'ok', fmt(now) }
elseif op == 'resume' then
  local was = s['stop']
  save()
  if was then redis.call('HDEL', KEYS[1], 'stop'); redis.call('PUBLISH', KEYS[6], 'r' .. (ARGV[14] or '')) end
  return { 'ok', fmt(now) }
elseif op == 'limit' then
  -- 14 concurrency limit
  put('cl', tonumber(ARGV[14]))
  save()
  wake('w')
  return { 'ok', fmt(now) }
elseif op == 'renew' then
  -- 14 ttl ms, 15 1: add missing slots (rejoining), 0: only renew, 16.. lease ids
  local expiry = now + tonumber(ARGV[14])
  local missing = 0
  for i = 16, #ARGV do
    if ARGV[15] == '1' then
      redis.call('ZADD', KEYS[2], expiry, ARGV[i])
    elseif redis.call('ZADD', KEYS[2], 'XX', 'CH', expiry, ARGV[i]) == 0 and redis.call('ZSCORE', KEYS[2], ARGV[i]) == false then
      missing = missing + 1
    end
  end
  save()
  return { 'ok', fmt(now), tostring(missing) }
elseif op == 'rejoin' then
  -- 14..17 debits of requests, tokens, input, output; 18, 19 per-day requests and tokens admitted locally;
  -- 20 pause until ms (0 none); 21 stop reason ('' none); 22 the part of the members not back yet (0..1), whose
  -- local buckets may still be spent: their bursts are charged too, so the bucket holds no more than ours.
  local absent = tonumber(ARGV[22]) or 0
  for _, d in ipairs(dims) do
    refill(d)
    local debit = (tonumber(ARGV[14 + d.dim]) or 0) + absent * d.cap
    if debit > 0 then put(d.f .. 'l', d.level - debit) end
  end
  for _, w in ipairs(days) do
    dayexpire(w)
    local amount = tonumber((w.f == 'R') and ARGV[18] or ARGV[19]) or 0
    if amount > 0 then dayspend(w, amount) end
  end
  local p = tonumber(ARGV[20]) or 0
  if p > (get('pause') or 0) then put('pause', p) end
  if ARGV[21] ~= '' then put('stop', ARGV[21]) end
  save()
  return { 'ok', fmt(now) }
elseif op == 'snapshot' then
  local out = { 'ok', fmt(now), tostring(inflight()), tostring(climit()), fmt(get('pause') or 0), s['stop'] or '' }
  for _, d in ipairs(dims) do
    refill(d)
    out[#out + 1] = tostring(d.dim); out[#out + 1] = fmt(d.rate * 60); out[#out + 1] = fmt(d.level); out[#out + 1] = tostring(d.src)
  end
  for _, w in ipairs(days) do
    dayexpire(w)
    out[#out + 1] = tostring(w.dim); out[#out + 1] = fmt(w.limit); out[#out + 1] = fmt(dayavailable(w)); out[#out + 1] = tostring(w.src)
  end
  save()
  return out
end
return redis.error_reply('unknown op ' .. tostring(op))
end

local result = run()
-- A partition nobody has used for a day and a bit is forgotten, so Redis holds what is in use, not every partition
-- ever seen (a proxy's clients choose partition keys). Its per-day counts matter for 24 hours after their minute.
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], DAY + 2 * 3600000) end
return result
