/**
 * The user-item interaction matrix that training reads: one net implicit
 * weight per (user, item) pair, indexed both by user (rows) and by item
 * (columns) in compressed sparse form, so ALS can sweep either side.
 */

export interface Interaction {
  userId: string;
  itemId: string;
  /** Net implicit weight: positive is interest, negative is aversion. */
  weight: number;
}

/** Compressed sparse rows: row r's entries are at [start[r], start[r + 1]). */
export interface SparseRows {
  start: Int32Array;
  index: Int32Array;
  value: Float32Array;
}

export interface InteractionMatrix {
  userIds: string[];
  itemIds: string[];
  userIndex: Map<string, number>;
  itemIndex: Map<string, number>;
  /** By user: the items each user touched, with weights. */
  byUser: SparseRows;
  /** By item: the users who touched each item, with the same weights. */
  byItem: SparseRows;
}

/**
 * Builds the matrix. Repeated (user, item) pairs add up. `itemIds` fixes the
 * item order (for instance the whole catalogue, including items nobody has
 * touched yet); items that appear only in `interactions` are appended.
 */
export function buildMatrix(
  interactions: Iterable<Interaction>,
  itemIds: readonly string[] = [],
): InteractionMatrix {
  const userIds: string[] = [];
  const userIndex = new Map<string, number>();
  const items = [...itemIds];
  const itemIndex = new Map<string, number>(items.map((id, i) => [id, i]));
  const perUser: Array<Map<number, number>> = [];

  for (const { userId, itemId, weight } of interactions) {
    let u = userIndex.get(userId);
    if (u === undefined) {
      u = userIds.length;
      userIds.push(userId);
      userIndex.set(userId, u);
      perUser.push(new Map());
    }
    let i = itemIndex.get(itemId);
    if (i === undefined) {
      i = items.length;
      items.push(itemId);
      itemIndex.set(itemId, i);
    }
    const row = perUser[u];
    row.set(i, (row.get(i) ?? 0) + weight);
  }

  const byUser = toRows(perUser);
  return {
    userIds,
    itemIds: items,
    userIndex,
    itemIndex,
    byUser,
    byItem: transpose(byUser, items.length),
  };
}

function toRows(rows: Array<Map<number, number>>): SparseRows {
  let total = 0;
  for (const row of rows) total += row.size;
  const start = new Int32Array(rows.length + 1);
  const index = new Int32Array(total);
  const value = new Float32Array(total);
  let at = 0;
  rows.forEach((row, r) => {
    start[r] = at;
    for (const i of [...row.keys()].sort((a, b) => a - b)) {
      index[at] = i;
      value[at] = row.get(i) ?? 0;
      at += 1;
    }
  });
  start[rows.length] = at;
  return { start, index, value };
}

/** The same entries, indexed by column. Columns keep rows in ascending order. */
export function transpose(rows: SparseRows, columns: number): SparseRows {
  const count = new Int32Array(columns + 1);
  for (let e = 0; e < rows.index.length; e += 1) count[rows.index[e] + 1] += 1;
  for (let c = 0; c < columns; c += 1) count[c + 1] += count[c];
  const start = Int32Array.from(count);
  const next = Int32Array.from(count.subarray(0, columns));
  const index = new Int32Array(rows.index.length);
  const value = new Float32Array(rows.index.length);
  for (let r = 0; r + 1 < rows.start.length; r += 1) {
    for (let e = rows.start[r]; e < rows.start[r + 1]; e += 1) {
      const at = next[rows.index[e]]++;
      index[at] = r;
      value[at] = rows.value[e];
    }
  }
  return { start, index, value };
}
