/**
 * The parts of the hot copy that readers trust only while marked whole
 * (storage/redis/build-mark.ts), and how a build writes each from
 * PostgreSQL, a page of ids at a time (hot-copy-builder.ts).
 *
 * - The known users: a Bloom filter of every user with features. A reader
 *   that misses a user's hot record asks PostgreSQL only if the filter may
 *   hold the user, so a user never seen before costs no query. Every write
 *   of a user's hot record sets the user's bits, and bits are never
 *   cleared (a user whose features are gone reads as "maybe", which costs
 *   one query). Lost bits would make a user look new, so whoever may have
 *   lost some withdraws the mark: every worker when it starts, and a
 *   hot-copy writer that dropped queued user writes.
 * - The co-visitation neighbour sets: while marked whole, every item's set
 *   is read as complete, and an item without one has no neighbours. Without
 *   the mark only sets filled from PostgreSQL (FILLED) are. A set misses a
 *   pair only if its write was lost, which the mark's withdrawal covers
 *   when a hot-copy writer drops pair writes; a crashed worker's lost
 *   writes are not covered, as for sets filled from PostgreSQL, and are
 *   mended by the next write of the pair.
 */
import type { FeatureRepository } from '../storage/postgres/feature-repository';
import type { BuildMark } from '../storage/redis/build-mark';
import type { HotStore } from '../storage/redis/hot-store';

export interface HotCopyPart {
  /** For logs. */
  readonly name: string;
  readonly mark: BuildMark;
  /** Whether a starting worker rebuilds the part even when it is marked whole. */
  readonly supersedeOnStart: boolean;
  /** Ids read per page, by default. */
  readonly pageSize: number;
  /** A page of the part's ids after `after` (from the first when null), in id order. */
  ids(after: string | null, limit: number): Promise<string[]>;
  /** Writes a page; false if the build's token no longer stands. */
  write(token: string, ids: readonly string[]): Promise<boolean>;
}

type Repository = Pick<FeatureRepository, 'userIdsAfter' | 'itemIdsAfter' | 'neighbours'>;

export function knownUsersPart(hot: HotStore, repository: Repository): HotCopyPart {
  const mark = hot.marks.users;
  return {
    name: 'known users',
    mark,
    supersedeOnStart: true,
    pageSize: 5000,
    ids: (after, limit) => repository.userIdsAfter(after, limit),
    write: (token, ids) => mark.sendPage(hot.knownUsersPipeline(ids), token),
  };
}

export function neighboursPart(hot: HotStore, repository: Repository, depth: number): HotCopyPart {
  const mark = hot.marks.neighbours;
  return {
    name: 'neighbour sets',
    mark,
    supersedeOnStart: false,
    pageSize: 500,
    ids: (after, limit) => repository.itemIdsAfter(after, limit),
    async write(token, ids) {
      const found = await repository.neighbours(ids, depth);
      const lists = [...found]
        .filter(([, list]) => list.length > 0)
        .map(([itemId, list]) => ({
          itemId,
          entries: list.map((n) => ({ itemId: n.itemId, score: n.weight })),
        }));
      return mark.sendPage(hot.fillNeighboursPipeline(lists), token);
    },
  };
}
