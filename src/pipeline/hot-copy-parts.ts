/**
 * The parts of the hot copy that workers build from PostgreSQL, a page of
 * ids at a time (hot-copy-builder.ts), each with a mark that says it is
 * built (storage/redis/build-mark.ts).
 *
 * - The known users: a Bloom filter of every user with features. A reader
 *   that misses a user's hot record asks PostgreSQL only if the filter may
 *   hold the user, so a user never seen before costs no query. Every write
 *   of a user's hot record sets the user's bits, and bits are never
 *   cleared (a user whose features are gone reads as "maybe", which costs
 *   one query). Lost bits would make a user look new, so a worker sets a
 *   batch's users' bits before it commits the batch (best effort:
 *   HotCopyWriter.announceUsers), and whoever may have lost some withdraws
 *   the mark: every worker when it starts, and a hot-copy writer that
 *   dropped queued user writes.
 * - The co-visitation neighbour sets and the popularity sets (all items,
 *   and each category's, per window): readers trust only sets filled from
 *   PostgreSQL (FILLED), since a set the pipeline made may lack entries
 *   whose writes were lost, or that expired with it. So the build fills
 *   every set from PostgreSQL (an item without pairs, a category without
 *   sales, gets a filled empty set), and the pipeline's later writes add to
 *   filled sets. Here the mark says only that the fill is done: after a
 *   bulk load, or a Redis restart, the first gateway would otherwise pay a
 *   heavy query per set. A hot-copy writer that dropped pair or item
 *   writes withdraws the mark, and the next fill adds what they lacked.
 */
import { POPULARITY_WINDOWS } from '../domain/features';
import { POPULAR_DEPTH } from '../storage/feature-store';
import type { FeatureRepository } from '../storage/postgres/feature-repository';
import type { BuildMark } from '../storage/redis/build-mark';
import type { HotStore } from '../storage/redis/hot-store';

export interface HotCopyPart {
  /** For logs. */
  readonly name: string;
  readonly mark: BuildMark;
  /** Whether a starting worker rebuilds the part even when it is marked built. */
  readonly supersedeOnStart: boolean;
  /** Ids read per page, by default. */
  readonly pageSize: number;
  /** A page of the part's ids after `after` (from the first when null), in id order. */
  ids(after: string | null, limit: number): Promise<string[]>;
  /** Writes a page; false if the build's token no longer stands. */
  write(token: string, ids: readonly string[]): Promise<boolean>;
}

type Repository = Pick<
  FeatureRepository,
  'userIdsAfter' | 'itemIdsAfter' | 'neighbours' | 'categoriesAfter' | 'popular'
>;

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
      // Every item gets a filled set, an empty one too: readers trust only
      // filled sets, and read a missing one from PostgreSQL.
      const found = await repository.neighbours(ids, depth);
      const lists = [...found].map(([itemId, list]) => ({
        key: hot.neighboursKey(itemId),
        entries: list.map((n) => ({ itemId: n.itemId, score: n.weight })),
      }));
      return mark.sendPage(hot.fillTopPipeline(lists, false), token);
    },
  };
}

export function popularPart(hot: HotStore, repository: Repository): HotCopyPart {
  const mark = hot.marks.popular;
  return {
    name: 'popularity sets',
    mark,
    supersedeOnStart: false,
    pageSize: 20,
    // '' is the list of all items; the rest are the catalogue's categories.
    ids: (after, limit) => repository.categoriesAfter(after, limit),
    async write(token, categories) {
      const lists = [];
      for (const name of categories) {
        const category = name === '' ? null : name;
        for (const window of POPULARITY_WINDOWS) {
          const entries = await repository.popular(window, category, POPULAR_DEPTH);
          lists.push({ key: hot.popularityKey(window, category), category, entries });
        }
      }
      return mark.sendPage(hot.fillPopularPipeline(lists, false), token);
    },
  };
}
