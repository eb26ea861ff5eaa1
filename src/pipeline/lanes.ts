/**
 * How a worker divides its work into lanes (see worker.ts): which lane a
 * user belongs to, and how many events each lane may take per batch.
 */

/** A user's lane, 0 to lanes − 1: FNV-1a of the id, so a user always has the same one. */
export function laneOfUser(userId: string, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i += 1) {
    hash = Math.imul(hash ^ userId.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % lanes;
}

/**
 * Each lane's most events per batch. The shares add up to `batchSize`, and
 * there are never more lanes than events per batch, so that a worker holds
 * no more events, and no more of PostgreSQL's locks, than with one lane.
 */
export function laneShares(batchSize: number, lanes: number): number[] {
  const count = Math.min(lanes, batchSize);
  return Array.from(
    { length: count },
    (_, i) => Math.floor(batchSize / count) + (i < batchSize % count ? 1 : 0),
  );
}
