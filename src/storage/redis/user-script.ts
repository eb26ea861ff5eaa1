/**
 * The Lua script that writes users to the hot copy (registered as a command
 * in scripts.ts): records replaced only by a higher version, seen items
 * appended, and the mark that says how far a seen list is complete, which
 * user-codec.ts reads.
 */

/**
 * Writes users, one per key: ARGV[1] the TTL, then for each key in turn the
 * record's version, the encoded record ('' for none), the record versions
 * `from` and `to` whose items this write holds every one of (0 and 0 for
 * none), and the seen items to add, each followed by a tab, in one
 * argument ('' for none: a long list as one argument each would overflow
 * the caller's stack).
 *
 * A user's value is "<version>|<record>\n<mark>\t<item>\t<item>\t...".
 * The mark is "F<v>" when the list holds every item of every version up to
 * v, and "P" for v = 0; either may be followed by "+<a>-<b>" ranges of
 * later versions whose items it holds, written out of order. A write that
 * holds every item of versions from..to adds its range; every range that
 * starts at or below v + 1 then raises v to its end (a user's first
 * version needs nothing before it). So writes may arrive in any order, a
 * write that never arrives stops v, and a gateway trusts a list only while
 * v has reached the record's version (user-codec.ts). Ranges that meet are
 * joined, and at most 8 are kept, the nearest; forgetting one only delays
 * trust until a fill. An "F" without a number, written before versions
 * were marked, counts as v = 0.
 *
 * A record is replaced only by a higher version; items are appended when
 * the list lacks them. A remembered absence ("0|null") gives way to
 * anything written. One call writes many users: a call per user cost the
 * worker more than the write itself.
 */
export const WRITE_USERS = `
-- Whole numbers in full: Lua would write 1e+14 for 100000000000000.
local function int(n) return string.format('%.0f', n) end
local ttl = ARGV[1]
local a = 2
local written = 0
for k = 1, #KEYS do
  local version, record, added = ARGV[a], ARGV[a + 1], ARGV[a + 4]
  local from, to = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  a = a + 5
  local current = redis.call('GET', KEYS[k])
  local head, mark, items = '', 'P', '\\t'
  if current then
    local nl = string.find(current, '\\n', 1, true)
    if nl then
      head = string.sub(current, 1, nl - 1)
      local tab = string.find(current, '\\t', nl + 1, true)
      if tab then
        mark = string.sub(current, nl + 1, tab - 1)
        items = string.sub(current, tab)
      end
    else
      head = current
    end
  end
  local changed = false
  if head == '0|null' then head = ''; changed = true end
  if record ~= '' then
    local stored = tonumber(string.match(head, '^(%d+)|'))
    if not stored or stored < tonumber(version) then
      head = version .. '|' .. record
      changed = true
    end
  end
  if to > 0 then
    local upto = tonumber(string.match(mark, '^F(%d+)')) or 0
    local ranges = { { from, to } }
    for first, last in string.gmatch(mark, '%+(%d+)%-(%d+)') do
      ranges[#ranges + 1] = { tonumber(first), tonumber(last) }
    end
    -- In order of their first version: each either extends v, or joins the
    -- range before it when they meet, or starts a range of its own.
    table.sort(ranges, function(x, y) return x[1] < y[1] end)
    local ahead = {}
    for _, r in ipairs(ranges) do
      local held = ahead[#ahead]
      if r[1] <= upto + 1 then
        if r[2] > upto then upto = r[2] end
      elseif held and r[1] <= held[2] + 1 then
        if r[2] > held[2] then held[2] = r[2] end
      else
        ahead[#ahead + 1] = { r[1], r[2] }
      end
    end
    -- The nearest are kept: they are the next to join v.
    local marked = {}
    for i = 1, math.min(#ahead, 8) do
      marked[i] = '+' .. int(ahead[i][1]) .. '-' .. int(ahead[i][2])
    end
    local marks = (upto > 0 and ('F' .. int(upto)) or 'P') .. table.concat(marked)
    if marks ~= mark then mark = marks; changed = true end
  end
  if added ~= '' then
    local ids = {}
    for id in string.gmatch(added, '([^\\t]+)\\t') do ids[#ids + 1] = id end
    local fresh, have = {}, {}
    local many = #ids > 8
    if many then
      for id in string.gmatch(items, '([^\\t]+)\\t') do have[id] = true end
    end
    for _, id in ipairs(ids) do
      if not have[id] and (many or not string.find(items, '\\t' .. id .. '\\t', 1, true)) then
        have[id] = true
        fresh[#fresh + 1] = id .. '\\t'
      end
    end
    if #fresh > 0 then
      items = items .. table.concat(fresh)
      changed = true
    end
  end
  if changed then
    redis.call('SET', KEYS[k], head .. '\\n' .. mark .. items, 'EX', ttl)
    written = written + 1
  end
end
return written`;
