/**
 * What every resolver gets: the services (shared, stateless) and the
 * request's own loaders, correlation id and logger.
 */
import DataLoader from 'dataloader';
import { orUnavailable } from '../../storage/unavailable';
import type { CatalogService } from '../../catalog/catalog-service';
import type { IngestService } from '../../ingestion/ingest-service';
import type { Logger } from '../../observability/logger';
import type { Recommender } from '../../recommend/recommender';
import type { FeatureLoaders, FeatureStore } from '../../storage/feature-store';
import type { CatalogRepository, UserProfile } from '../../storage/postgres/catalog-repository';
import type { RecommendationStreams } from '../subscriptions/recommendation-streams';
import type { CacheHints } from './cached-operations';

export interface Services {
  ingest: IngestService;
  catalog: CatalogService;
  catalogRepository: CatalogRepository;
  features: FeatureStore;
  recommender: Recommender;
  streams: RecommendationStreams;
  maxLimit: number;
}

export interface RequestContext extends CacheHints {
  requestId: string;
  log: Logger;
  services: Services;
  loaders: FeatureLoaders;
  profiles: DataLoader<string, UserProfile | null>;
}

/**
 * A request's context. A class, not an object literal, so that the logger
 * stays lazy: Apollo Server copies every context it is given with
 * `Object.assign` onto an object of the same prototype, which would call a
 * getter defined on the object itself and so make the logger each time.
 */
class Context implements RequestContext {
  readonly loaders: FeatureLoaders;
  readonly profiles: DataLoader<string, UserProfile | null>;
  degraded = false;
  /** The request's logger, once made. */
  private child: Logger | undefined = undefined;

  constructor(
    readonly services: Services,
    readonly requestId: string,
    private readonly parentLog: Logger,
    readonly bypassCache: boolean,
  ) {
    this.loaders = services.features.loaders();
    this.profiles = new DataLoader(async (ids) => {
      const found = await orUnavailable('the profile store', () =>
        services.catalogRepository.profiles(ids),
      );
      return ids.map((id) => found.get(id) ?? null);
    });
  }

  /**
   * Made when first used: most requests log nothing, and a pino child costs
   * its bindings' serialisation and redaction.
   */
  get log(): Logger {
    this.child ??= this.parentLog.child({ requestId: this.requestId });
    return this.child;
  }
}

/**
 * A fresh context: new loaders, so nothing cached leaks between requests or
 * users. `bypassCache` when the client asked for a fresh answer.
 */
export function createContext(
  services: Services,
  requestId: string,
  log: Logger,
  bypassCache = false,
): RequestContext {
  return new Context(services, requestId, log, bypassCache);
}
