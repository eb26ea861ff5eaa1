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

export interface Services {
  ingest: IngestService;
  catalog: CatalogService;
  catalogRepository: CatalogRepository;
  features: FeatureStore;
  recommender: Recommender;
  streams: RecommendationStreams;
  maxLimit: number;
}

export interface RequestContext {
  requestId: string;
  log: Logger;
  services: Services;
  loaders: FeatureLoaders;
  profiles: DataLoader<string, UserProfile | null>;
}

/** A fresh context: new loaders, so nothing cached leaks between requests or users. */
export function createContext(services: Services, requestId: string, log: Logger): RequestContext {
  // The request's logger is made when first used: most requests log nothing,
  // and a pino child costs its bindings' serialisation and redaction.
  let child: Logger | undefined;
  return {
    requestId,
    get log() {
      child ??= log.child({ requestId });
      return child;
    },
    services,
    loaders: services.features.loaders(),
    profiles: new DataLoader(async (ids) => {
      const found = await orUnavailable('the profile store', () =>
        services.catalogRepository.profiles(ids),
      );
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}
