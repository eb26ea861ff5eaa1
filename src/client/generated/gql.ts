/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation UpsertItems($inputs: [ItemInput!]!) {\n  upsertItems(inputs: $inputs) {\n    created\n    updated\n  }\n}": typeof types.UpsertItemsDocument,
    "mutation RecordEvent($input: EventInput!) {\n  recordEvent(input: $input) {\n    eventId\n    sequence\n    status\n  }\n}\n\nmutation RecordEvents($inputs: [EventInput!]!) {\n  recordEvents(inputs: $inputs) {\n    eventId\n    sequence\n    status\n  }\n}": typeof types.RecordEventDocument,
    "fragment ItemSummary on Item {\n  id\n  title\n  categories\n}\n\nfragment RecommendationListFields on RecommendationList {\n  userId\n  strategy\n  computedAt\n  degradedSources\n  items {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n    sources\n  }\n}": typeof types.ItemSummaryFragmentDoc,
    "query Recommendations($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendations(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}\n\nquery SimilarItems($itemId: ID!, $limit: Int! = 10) {\n  similarItems(itemId: $itemId, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nquery PopularItems($window: PopularityWindow! = WEEK, $category: String, $limit: Int! = 10) {\n  popularItems(window: $window, category: $category, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nsubscription RecommendationsUpdated($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendationsUpdated(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}": typeof types.RecommendationsDocument,
    "query UserProfile($id: ID!) {\n  user(id: $id) {\n    id\n    attributes\n    features {\n      events\n      positives\n      negatives\n      seenItemCount\n      firstEventAt\n      lastEventAt\n      categoryAffinities {\n        category\n        affinity\n        events\n      }\n      recentInteractions {\n        itemId\n        type\n        value\n        occurredAt\n        item {\n          ...ItemSummary\n        }\n      }\n    }\n  }\n}": typeof types.UserProfileDocument,
};
const documents: Documents = {
    "mutation UpsertItems($inputs: [ItemInput!]!) {\n  upsertItems(inputs: $inputs) {\n    created\n    updated\n  }\n}": types.UpsertItemsDocument,
    "mutation RecordEvent($input: EventInput!) {\n  recordEvent(input: $input) {\n    eventId\n    sequence\n    status\n  }\n}\n\nmutation RecordEvents($inputs: [EventInput!]!) {\n  recordEvents(inputs: $inputs) {\n    eventId\n    sequence\n    status\n  }\n}": types.RecordEventDocument,
    "fragment ItemSummary on Item {\n  id\n  title\n  categories\n}\n\nfragment RecommendationListFields on RecommendationList {\n  userId\n  strategy\n  computedAt\n  degradedSources\n  items {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n    sources\n  }\n}": types.ItemSummaryFragmentDoc,
    "query Recommendations($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendations(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}\n\nquery SimilarItems($itemId: ID!, $limit: Int! = 10) {\n  similarItems(itemId: $itemId, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nquery PopularItems($window: PopularityWindow! = WEEK, $category: String, $limit: Int! = 10) {\n  popularItems(window: $window, category: $category, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nsubscription RecommendationsUpdated($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendationsUpdated(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}": types.RecommendationsDocument,
    "query UserProfile($id: ID!) {\n  user(id: $id) {\n    id\n    attributes\n    features {\n      events\n      positives\n      negatives\n      seenItemCount\n      firstEventAt\n      lastEventAt\n      categoryAffinities {\n        category\n        affinity\n        events\n      }\n      recentInteractions {\n        itemId\n        type\n        value\n        occurredAt\n        item {\n          ...ItemSummary\n        }\n      }\n    }\n  }\n}": types.UserProfileDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpsertItems($inputs: [ItemInput!]!) {\n  upsertItems(inputs: $inputs) {\n    created\n    updated\n  }\n}"): (typeof documents)["mutation UpsertItems($inputs: [ItemInput!]!) {\n  upsertItems(inputs: $inputs) {\n    created\n    updated\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RecordEvent($input: EventInput!) {\n  recordEvent(input: $input) {\n    eventId\n    sequence\n    status\n  }\n}\n\nmutation RecordEvents($inputs: [EventInput!]!) {\n  recordEvents(inputs: $inputs) {\n    eventId\n    sequence\n    status\n  }\n}"): (typeof documents)["mutation RecordEvent($input: EventInput!) {\n  recordEvent(input: $input) {\n    eventId\n    sequence\n    status\n  }\n}\n\nmutation RecordEvents($inputs: [EventInput!]!) {\n  recordEvents(inputs: $inputs) {\n    eventId\n    sequence\n    status\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ItemSummary on Item {\n  id\n  title\n  categories\n}\n\nfragment RecommendationListFields on RecommendationList {\n  userId\n  strategy\n  computedAt\n  degradedSources\n  items {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n    sources\n  }\n}"): (typeof documents)["fragment ItemSummary on Item {\n  id\n  title\n  categories\n}\n\nfragment RecommendationListFields on RecommendationList {\n  userId\n  strategy\n  computedAt\n  degradedSources\n  items {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n    sources\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Recommendations($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendations(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}\n\nquery SimilarItems($itemId: ID!, $limit: Int! = 10) {\n  similarItems(itemId: $itemId, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nquery PopularItems($window: PopularityWindow! = WEEK, $category: String, $limit: Int! = 10) {\n  popularItems(window: $window, category: $category, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nsubscription RecommendationsUpdated($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendationsUpdated(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}"): (typeof documents)["query Recommendations($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendations(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}\n\nquery SimilarItems($itemId: ID!, $limit: Int! = 10) {\n  similarItems(itemId: $itemId, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nquery PopularItems($window: PopularityWindow! = WEEK, $category: String, $limit: Int! = 10) {\n  popularItems(window: $window, category: $category, limit: $limit) {\n    item {\n      ...ItemSummary\n    }\n    score\n    reasons\n  }\n}\n\nsubscription RecommendationsUpdated($userId: ID!, $limit: Int! = 10, $filter: RecommendationFilter) {\n  recommendationsUpdated(userId: $userId, limit: $limit, filter: $filter) {\n    ...RecommendationListFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query UserProfile($id: ID!) {\n  user(id: $id) {\n    id\n    attributes\n    features {\n      events\n      positives\n      negatives\n      seenItemCount\n      firstEventAt\n      lastEventAt\n      categoryAffinities {\n        category\n        affinity\n        events\n      }\n      recentInteractions {\n        itemId\n        type\n        value\n        occurredAt\n        item {\n          ...ItemSummary\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query UserProfile($id: ID!) {\n  user(id: $id) {\n    id\n    attributes\n    features {\n      events\n      positives\n      negatives\n      seenItemCount\n      firstEventAt\n      lastEventAt\n      categoryAffinities {\n        category\n        affinity\n        events\n      }\n      recentInteractions {\n        itemId\n        type\n        value\n        occurredAt\n        item {\n          ...ItemSummary\n        }\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;