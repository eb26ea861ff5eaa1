/**
 * The Lua scripts that write items and their sorted sets to the hot copy
 * (registered as commands in scripts.ts), and the building of WRITE_ITEMS's
 * arguments (ItemCalls), whose layout is defined here.
 */

/**
 * Sets KEYS[1] to ARGV[2] with a TTL of ARGV[3] seconds, unless the stored
 * value has version ARGV[1] or higher (a remembered absence of an item).
 */
export const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%d+)|'))
  if version and version >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/**
 * Writes items, one per key among the first ARGV[1] keys; the keys after
 * them are popularity sets. ARGV[2] is the number of popularity windows,
 * followed by each window's category-set key without the category
 * ("<prefix>pop:<window>:c:"); then, for each item in turn,
 * its record's version, the encoded record ("<version>|<json>\n" and its
 * categories, each followed by a tab), the item id, its popularity as one
 * string of "<set>\t<score>\t" pairs (<set> counts from 1 among the set
 * keys; the score "-" takes the item out of the set, for a withdrawn item),
 * and the sets of categories it has left, as one string of
 * "<set>\t<category>\t" pairs.
 *
 * - A record is replaced only by a higher version. Item records do not
 *   expire: the popularity sets that name an item live as long, and what a
 *   record lists is how a later write knows which sets to leave.
 * - Its scores go into the sets (ZADD GT, one call per set) unless the
 *   stored record is newer: an older record may name categories the item
 *   has left since, and its scores are no higher than the newer record's.
 * - A record that replaces another takes the item out of the sets of every
 *   category the replaced one names and it does not. So a move that never
 *   reached Redis (lost with a gateway, say), or a Redis that lost it, is
 *   mended by the item's next write, whoever makes it. These keys are made
 *   here from the heads above, not passed: they depend on what is stored.
 * - The item leaves a passed left category's set unless the record Redis
 *   holds once this write is done names that category again: two moves, or
 *   a move and a pipeline write, may reach Redis in either order, and the
 *   newest record decides. This also covers an item whose record Redis
 *   lost while the sets kept it.
 * - A refill's stub (see FILL_POPULAR) is replaced like a record of no
 *   version, and the categories it notes are left like a record's.
 * - A record stored before the list was added is read from its JSON
 *   (cjson); if even that fails, no set is left on its account, and a
 *   passed left category is left.
 *
 * Sent as one string per item, the thousands of pairs of a batch cost the
 * worker less than as separate arguments.
 */
export const WRITE_ITEMS = `
local n, windows = tonumber(ARGV[1]), tonumber(ARGV[2])
local heads = {}
for w = 1, windows do heads[w] = ARGV[2 + w] end
local scored, removed, departed = {}, {}, {}
-- Appends one or two arguments to a set's list (an even count stays even,
-- so the slices of 1,000 below never split a score from its member).
local function add(lists, set, first, second)
  local list = lists[set]
  if not list then
    list = {}
    lists[set] = list
  end
  list[#list + 1] = first
  if second then list[#list + 1] = second end
end
-- The categories an encoded record names, as a set; nil when that is not
-- known (an absence, or an older record whose JSON does not parse).
local function categoriesOf(value)
  local names = {}
  local nl = string.find(value, '\\n', 1, true)
  if nl then
    for c in string.gmatch(string.sub(value, nl + 1), '([^\\t]+)\\t') do names[c] = true end
    return names
  end
  -- Stored before the list was added: its JSON says.
  local bar = string.find(value, '|', 1, true)
  if not bar then return nil end
  local ok, parsed = pcall(cjson.decode, string.sub(value, bar + 1))
  if not (ok and type(parsed) == 'table' and type(parsed.categories) == 'table') then
    return nil
  end
  for _, c in ipairs(parsed.categories) do names[c] = true end
  return names
end
local written = 0
local a = 3 + windows
for k = 1, n do
  local version, record, member = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2]
  local scores, left = ARGV[a + 3], ARGV[a + 4]
  a = a + 5
  local current = redis.call('GET', KEYS[k])
  local stored = current and tonumber(string.match(current, '^(%d+)|'))
  local newer = stored and stored > version
  if not (stored and stored >= version) then
    redis.call('SET', KEYS[k], record)
    written = written + 1
    local before = current and categoriesOf(current)
    if before then
      local after = categoriesOf(record) or {}
      for category in pairs(before) do
        if not after[category] then
          for w = 1, windows do add(departed, heads[w] .. category, member) end
        end
      end
    end
  end
  if not newer then
    for set, score in string.gmatch(scores, '(%d+)\\t([^\\t]+)\\t') do
      if score == '-' then
        add(removed, set, member)
      else
        add(scored, set, score, member)
      end
    end
  end
  if left ~= '' then
    local kept = categoriesOf(newer and current or record) or {}
    for set, category in string.gmatch(left, '(%d+)\\t([^\\t]+)\\t') do
      if not kept[category] then add(removed, set, member) end
    end
  end
end
-- One command per set (with its option, if any), in slices of 1,000
-- arguments: Lua's unpack is bounded. Sets are named by their number among
-- the keys, or (departed) by their key.
local function apply(lists, command, option, named)
  for set, list in pairs(lists) do
    local key = named and set or KEYS[n + tonumber(set)]
    for i = 1, #list, 1000 do
      local last = math.min(i + 999, #list)
      if option then
        redis.call(command, key, option, unpack(list, i, last))
      else
        redis.call(command, key, unpack(list, i, last))
      end
    end
  end
end
apply(scored, 'ZADD', 'GT')
apply(removed, 'ZREM')
apply(departed, 'ZREM', nil, true)
return written`;

/** One set an item is written to: its key and its score ('-' to leave it). */
export type ScoredSet = [key: string, score: number | '-'];
/** One set of a category an item left: its key and the category. */
export type LeftSet = [key: string, category: string];

/**
 * Builds the WRITE_ITEMS calls of one write, item by item. A call takes items
 * until it holds `maxKeys` of them, or until the next item would bring its
 * popularity sets past `maxKeys`: Redis runs nothing else while the script
 * runs (an item in 50 categories alone names 204 sets).
 */
export class ItemCalls {
  private keys: string[] = [];
  /** Each set key of the call, with its number among the set keys (from 1). */
  private sets = new Map<string, number>();
  private args: Array<string | number> = [];

  constructor(
    /** Each window's category-set key without the category (see WRITE_ITEMS). */
    private readonly heads: readonly string[],
    private readonly maxKeys: number,
    /** Queues one call: how many keys it names, then its keys and arguments. */
    private readonly send: (keyCount: number, args: Array<string | number>) => void,
  ) {}

  add(
    itemKey: string,
    record: { itemId: string; version: number },
    encoded: string,
    scored: readonly ScoredSet[],
    left: readonly LeftSet[],
  ): void {
    let fresh = 0;
    for (const [key] of scored) if (!this.sets.has(key)) fresh += 1;
    for (const [key] of left) if (!this.sets.has(key)) fresh += 1;
    const full = this.sets.size + fresh > this.maxKeys;
    if (this.keys.length >= this.maxKeys || (this.keys.length > 0 && full)) this.finish();
    this.keys.push(itemKey);
    this.args.push(
      record.version,
      encoded,
      record.itemId,
      this.numbered(scored),
      this.numbered(left),
    );
  }

  /** Queues the call being built, if it holds any item. */
  finish(): void {
    if (this.keys.length === 0) return;
    const { keys, sets, args, heads } = this;
    this.send(keys.length + sets.size, [
      ...keys,
      ...sets.keys(),
      keys.length,
      heads.length,
      ...heads,
      ...args,
    ]);
    this.keys = [];
    this.sets = new Map();
    this.args = [];
  }

  /** "<set>\t<value>\t" per pair, numbering sets new to the call. */
  private numbered(pairs: ReadonlyArray<[string, string | number]>): string {
    let text = '';
    for (const [key, value] of pairs) {
      let n = this.sets.get(key);
      if (n === undefined) {
        n = this.sets.size + 1;
        this.sets.set(key, n);
      }
      text += `${n}\t${value}\t`;
    }
    return text;
  }
}

/**
 * Fills a popularity set (KEYS[1]) from PostgreSQL: ARGV[1] is the FILLED
 * mark, ARGV[2] the set's category ('' for a set of all items), then for
 * each item, whose record key is KEYS[1 + i], its score, id and record
 * version as PostgreSQL gave them. The sets an item is in must stay those
 * its stored value names, which is how WRITE_ITEMS knows to take it out of
 * them later:
 * - with the very version PostgreSQL listed stored, the item is added;
 * - with a newer one, it is not: whatever changed it placed it;
 * - with an older one, it is not: the write on its way will;
 * - with none (or a remembered absence), it is added, and the category is
 *   noted in a stub value ("\\n<category>\\t...", see item-codec.ts) that
 *   readers take for a miss and the record's first write replaces.
 */
export const FILL_POPULAR = `
local category = ARGV[2]
local args = {'+inf', ARGV[1]}
-- Notes in the item's stub (made now if it has none) that it is listed
-- under the category.
local function note(key, current)
  local stub = current
  if not stub or string.sub(stub, 1, 1) ~= '\\n' then stub = '\\n' end
  if not (string.find(stub, '\\n' .. category .. '\\t', 1, true)
      or string.find(stub, '\\t' .. category .. '\\t', 1, true)) then
    redis.call('SET', key, stub .. category .. '\\t')
  end
end
for k = 2, #KEYS do
  local a = 3 + (k - 2) * 3
  local current = redis.call('GET', KEYS[k])
  local stored = current and tonumber(string.match(current, '^(%d+)|'))
  local unknown = not stored or stored == 0
  if unknown or stored == tonumber(ARGV[a + 2]) then
    args[#args + 1] = ARGV[a]
    args[#args + 1] = ARGV[a + 1]
  end
  if unknown and category ~= '' then note(KEYS[k], current) end
end
for i = 1, #args, 1000 do
  redis.call('ZADD', KEYS[1], 'GT', unpack(args, i, math.min(i + 999, #args)))
end
return #args / 2 - 1`;

/** Keeps the ARGV[1] highest members, plus the sentinel ARGV[2] when the set holds it. */
export const TRIM_TO_TOP = `
local sentinel = redis.call('ZSCORE', KEYS[1], ARGV[2]) and 1 or 0
return redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + sentinel + 1))`;
