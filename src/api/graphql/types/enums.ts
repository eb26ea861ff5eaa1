import { registerEnumType } from 'type-graphql';
import { EVENT_TYPES } from '../../../domain/events';
import { POPULARITY_WINDOWS } from '../../../domain/features';

/** GraphQL enums mirror the domain's lists, so the two cannot drift. */
function enumOf<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}

export const EventTypeEnum = enumOf(EVENT_TYPES);
registerEnumType(EventTypeEnum, {
  name: 'EventType',
  description: 'What the user did. RATE needs `value`; DISLIKE and SKIP count against the item.',
});

export const EventAnswerEnum = enumOf(['ACCEPTED', 'DUPLICATE'] as const);
registerEnumType(EventAnswerEnum, {
  name: 'EventAnswer',
  description:
    'ACCEPTED: JetStream stored the event. DUPLICATE: an event with this id was stored ' +
    'before (recognised within the stream duplicate window; beyond it the answer is ACCEPTED, ' +
    'and the pipeline still applies the event only once).',
});

export const PopularityWindowEnum = enumOf(POPULARITY_WINDOWS);
registerEnumType(PopularityWindowEnum, {
  name: 'PopularityWindow',
  description:
    'Recency of popularity: DAY, WEEK and MONTH are decayed with those half-lives; ' +
    'ALL_TIME is undecayed. DAY is "trending".',
});

export const StrategyEnum = enumOf(['PERSONALIZED', 'COLD_START', 'POPULARITY_FALLBACK'] as const);
registerEnumType(StrategyEnum, {
  name: 'RecommendationStrategy',
  description:
    "PERSONALIZED: built from the user's own history. COLD_START: the user has no usable " +
    'history yet, so popular and trending items. POPULARITY_FALLBACK: a personal source was ' +
    'unavailable, so the list leans on popularity.',
});
