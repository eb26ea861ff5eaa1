/**
 * The recommendation use cases: personalised lists, similar items and
 * popular items. Gathers candidates from the sources, loads what ranking
 * needs through the per-request loaders, and lets the domain rank.
 *
 * A source that fails is skipped and the list says so (strategy
 * POPULARITY_FALLBACK when nothing personal was left); only when even
 * popularity cannot be read does the call fail, with SERVICE_UNAVAILABLE.
 */
import type { WeightedItem } from '../learning/model';
import { ErrorCode, RecflowError } from '../domain/errors';
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../domain/features';
import {
  type BlendWeights,
  type BlendedList,
  type Candidate,
  type CandidateSource,
  type RankedItem,
  mmrRerank,
  RuleFilter,
  rankCandidates,
} from '../domain/ranking';
import type { Logger } from '../observability/logger';
import { type FeatureLoaders, popularKey } from '../storage/feature-store';
import type { ScoredId } from '../storage/redis/hot-store';
import {
  LearnedSources,
  type ModelSource,
  NO_MODEL,
  similarity,
  userInteractions,
} from './learned-sources';
import { PERSONAL_SOURCES, anchorsOf, blendSources, favouritesOf } from './personal-candidates';
import { popularCandidates } from './stored-candidates';
import { type RecommendedItem, serveItems } from './served-items';

export type Strategy = 'PERSONALIZED' | 'COLD_START' | 'POPULARITY_FALLBACK';

export interface RecommendationFilter {
  includeCategories?: readonly string[] | null;
  excludeCategories?: readonly string[] | null;
  excludeItemIds?: readonly string[] | null;
  /** Also return items the user already interacted with. Default false. */
  includeSeen?: boolean | null;
  /** At most this many items per category. */
  maxPerCategory?: number | null;
  /**
   * Maximal-marginal-relevance re-rank, trading relevance (1) for variety
   * (towards 0); null for none.
   */
  mmrLambda?: number | null;
}

export interface RecommendationList {
  userId: string;
  strategy: Strategy;
  computedAt: Date;
  items: RecommendedItem[];
  /** Sources that failed and were skipped. */
  degradedSources: CandidateSource[];
}

/** Item records loaded in the first page of a list; later pages double. */
const MIN_PAGE = 32;
/** With MMR, the re-rank chooses `limit` items among this many times `limit`. */
const MMR_POOL = 4;

export class Recommender {
  constructor(
    private readonly weights: BlendWeights,
    private readonly log: Logger,
    /** Told the strategy of every list served, for metrics. */
    private readonly onList: (strategy: Strategy) => void = () => undefined,
    models: ModelSource = NO_MODEL,
    /** What the learned sources know of a user; replay evaluation swaps it to freeze users. */
    interactionsOf: (user: UserFeatures) => WeightedItem[] = userInteractions,
  ) {
    this.learned = new LearnedSources(models, interactionsOf);
  }

  private readonly learned: LearnedSources;

  async recommend(
    loaders: FeatureLoaders,
    userId: string,
    limit: number,
    filter: RecommendationFilter = {},
  ): Promise<RecommendationList> {
    const computedAt = new Date();
    const degraded: CandidateSource[] = [];
    const user = (await this.optional('user', degraded, () => loaders.users.load(userId))) ?? null;

    // Repeats in the filter lists count once (a repeated category would
    // otherwise add its popular list, and its weight, once per repeat).
    const includeCategories = [...new Set(filter.includeCategories ?? [])];
    const exclude = new Set<string>(filter.excludeItemIds ?? []);
    if (user) {
      for (const id of user.disliked) exclude.add(id);
      if (!filter.includeSeen) for (const id of user.seen) exclude.add(id);
    }

    // 1. Read what the stored sources rank, concurrently (one round trip
    //    per kind), then make every source's candidates and blend them
    //    (blendSources, in personal-candidates.ts).
    const anchors = user ? anchorsOf(user) : [];
    const favourites = user ? favouritesOf(user) : [];
    const [neighbours, categoryLists, trending, popular, ...included] = await Promise.all([
      anchors.length > 0
        ? this.optional('covisitation', degraded, () => loaders.neighboursOf(anchors))
        : undefined,
      favourites.length > 0
        ? this.optional('category', degraded, () =>
            loaders.popularOf(favourites.map((c) => popularKey('MONTH', c))),
          )
        : undefined,
      this.readPopular(loaders, 'trending', 'DAY', null, degraded),
      this.readPopular(loaders, 'popular', 'ALL_TIME', null, degraded),
      ...includeCategories.map((c) =>
        this.readPopular(loaders, 'popular', 'ALL_TIME', c, degraded),
      ),
    ]);
    const model = this.learned.current();
    const learned = this.learned.forUser(model, user, filter.includeSeen ?? false);
    const { sources, blended } = blendSources(
      learned,
      { neighbours, categoryLists, trending, popular, included },
      { anchors, favourites, includeCategories, exclude },
      this.weights,
    );
    const personalCandidates = sources
      .slice(0, PERSONAL_SOURCES)
      .reduce((total, list) => total + list.length, 0);
    if (degraded.includes('popular') && sources.every((s) => s.length === 0)) {
      throw degradedError(degraded);
    }

    // 2. Take the best the rules accept, loading their records.
    const rules = new RuleFilter({
      exclude,
      includeCategories,
      excludeCategories: filter.excludeCategories ?? undefined,
      maxPerCategory: filter.maxPerCategory ?? null,
    });
    const mmr = filter.mmrLambda ?? null;
    const items = new Map<string, ItemFeatures>();
    const wanted = mmr === null ? limit : limit * MMR_POOL;
    const accepted = await this.acceptBest(loaders, blended, rules, wanted, items);

    // 3. Optional diversity re-rank.
    const ranked =
      mmr === null
        ? accepted
        : mmrRerank(accepted, limit, mmr, (a, b) => similarity(model, items, a, b));

    const strategy = strategyOf(user, personalCandidates, degraded);
    this.onList(strategy);
    return {
      userId,
      computedAt,
      strategy,
      items: serveItems(ranked, items, user),
      degradedSources: degraded,
    };
  }

  /**
   * Walks the blend best first, loading item records (and the anchors their
   * reasons name, into `items`) a page at a time, until the rules have
   * accepted `wanted` items or the blend runs out; then releases the blend.
   * Most requests load a few dozen records, not every candidate.
   */
  private async acceptBest(
    loaders: FeatureLoaders,
    blended: BlendedList,
    rules: RuleFilter,
    wanted: number,
    items: Map<string, ItemFeatures>,
  ): Promise<RankedItem[]> {
    const accepted: RankedItem[] = [];
    let next = 0;
    for (let page = Math.max(MIN_PAGE, 2 * wanted); accepted.length < wanted; page *= 2) {
      // Ranks, not items: an item's contributions are built only if accepted.
      const slice: number[] = [];
      for (; slice.length < page && next < blended.size; next += 1) {
        if (rules.allowed(blended.idAt(next))) slice.push(next);
      }
      if (slice.length === 0) break;
      const ids = new Set<string>();
      for (const rank of slice) blended.namesAt(rank, ids);
      for (const id of ids) if (items.has(id)) ids.delete(id);
      await this.loadItems(loaders, [...ids], items);
      for (const rank of slice) {
        if (accepted.length >= wanted) break;
        const itemId = blended.idAt(rank);
        if (rules.accept(itemId, items.get(itemId))) accepted.push(blended.at(rank));
      }
    }
    blended.release();
    return accepted;
  }

  /**
   * Items like `itemId`: its learned cosine neighbours and its co-visited
   * items, topped up with its category's popular items.
   */
  async similar(
    loaders: FeatureLoaders,
    itemId: string,
    limit: number,
  ): Promise<RecommendedItem[]> {
    const degraded: CandidateSource[] = [];
    const anchor = await loaders.items.load(itemId);
    if (!anchor) return [];
    const learned: Candidate[] = (this.learned.current()?.neighboursOf(itemId) ?? []).map((n) => ({
      itemId: n.itemId,
      source: 'itemKnn',
      score: n.similarity,
      because: { itemId },
    }));
    const neighbours = await this.optional('covisitation', degraded, async () => {
      const [read] = await loaders.neighboursOf([itemId]);
      return read;
    });
    const covisited: Candidate[] = (neighbours ?? []).map((n) => ({
      itemId: n.itemId,
      source: 'covisitation',
      score: n.score,
      because: { itemId },
    }));
    const category = anchor.categories[0] ?? null;
    const fallback = await this.popularList(
      loaders,
      'popular',
      'ALL_TIME',
      category,
      degraded,
      new Set([itemId]),
      Infinity,
    );
    const items = await this.loadItems(
      loaders,
      [...learned, ...covisited, ...fallback].map((c) => c.itemId).concat(itemId),
    );
    const ranked = rankCandidates(
      [learned, covisited, fallback],
      { ...this.weights, itemKnn: 1, covisitation: 0.5, popular: 0.05 },
      { limit, exclude: new Set([itemId]) },
      (id) => items.get(id),
    );
    return serveItems(ranked, items, null);
  }

  async popular(
    loaders: FeatureLoaders,
    window: PopularityWindow,
    category: string | null,
    limit: number,
  ): Promise<RecommendedItem[]> {
    const source: CandidateSource = window === 'DAY' ? 'trending' : 'popular';
    const [stored] = await loaders.popularOf([popularKey(window, category)]);
    const list = popularCandidates(stored, source, category, new Set(), Infinity);
    const items = await this.loadItems(
      loaders,
      list.map((c) => c.itemId),
    );
    // Redis's category list can hold an item that has since left the
    // category (README, Limits): its record decides.
    const ranked = rankCandidates(
      [list],
      { ...this.weights, [source]: 1 },
      { limit, exclude: new Set(), includeCategories: category === null ? undefined : [category] },
      (id) => items.get(id),
    );
    return serveItems(ranked, items, null);
  }

  /** A popular or trending list, or undefined (and the source degraded) when it cannot be read. */
  private readPopular(
    loaders: FeatureLoaders,
    source: 'trending' | 'popular',
    window: PopularityWindow,
    category: string | null,
    degraded: CandidateSource[],
  ): Promise<ScoredId[] | undefined> {
    return this.optional(source, degraded, async () => {
      const [read] = await loaders.popularOf([popularKey(window, category)]);
      return read;
    });
  }

  private async popularList(
    loaders: FeatureLoaders,
    source: 'trending' | 'popular',
    window: PopularityWindow,
    category: string | null,
    degraded: CandidateSource[],
    exclude: ReadonlySet<string>,
    most: number,
  ): Promise<Candidate[]> {
    const list = await this.readPopular(loaders, source, window, category, degraded);
    return list ? popularCandidates(list, source, category, exclude, most) : [];
  }

  /** The records of `ids` that exist, added to `items` (a new map by default). */
  private async loadItems(
    loaders: FeatureLoaders,
    ids: string[],
    items = new Map<string, ItemFeatures>(),
  ): Promise<Map<string, ItemFeatures>> {
    const loaded = await loaders.itemsOf(ids);
    loaded.forEach((item, i) => {
      if (item) items.set(ids[i], item);
    });
    return items;
  }

  /** Runs one source; on failure records it as degraded and yields undefined. */
  private async optional<T>(
    source: CandidateSource | 'user',
    degraded: CandidateSource[],
    load: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await load();
    } catch (error) {
      const name: CandidateSource = source === 'user' ? 'covisitation' : source;
      if (!degraded.includes(name)) degraded.push(name);
      this.log.warn({ err: error, source }, 'candidate source failed; degrading');
      return undefined;
    }
  }
}

/**
 * PERSONALIZED when the user's own sources produced candidates; COLD_START
 * for a user with no usable history; POPULARITY_FALLBACK when personal
 * sources (or the user's features) could not be read.
 */
function strategyOf(
  user: UserFeatures | null,
  personalCandidates: number,
  degraded: readonly CandidateSource[],
): Strategy {
  if (degraded.includes('covisitation') || degraded.includes('category'))
    return 'POPULARITY_FALLBACK';
  if (user === null || personalCandidates === 0) return 'COLD_START';
  return 'PERSONALIZED';
}

function degradedError(degraded: CandidateSource[]): Error {
  return new RecflowError(
    ErrorCode.SERVICE_UNAVAILABLE,
    'no candidate source is available; retry later',
    {
      degraded,
    },
  );
}
