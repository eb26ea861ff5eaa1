/**
 * Builds the executable schema from the resolver classes. The same schema
 * is printed to schema/schema.graphql (`npm run schema`), which is committed
 * and checked by a test.
 *
 * Every object type is declared with `simpleResolvers: true`: recflow uses
 * no type-graphql middlewares, so a plain field needs no wrapper (a list of
 * ten recommendations has some fifty such fields). Each field then gets a
 * small resolver that reads the property and settles its value
 * (guardResolvers), for compiled operations' sake.
 */
import 'reflect-metadata';
import {
  defaultFieldResolver,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNullableType,
  isListType,
  isObjectType,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { type PubSub, buildSchema } from 'type-graphql';
import type { RequestContext } from './context';
import { DateTimeISO } from './types/date-time';
import { CatalogResolver } from './resolvers/catalog-resolver';
import { ItemResolver, RecentInteractionResolver, UserResolver } from './resolvers/entity-resolver';
import { EVENT_MUTATIONS, EventResolver } from './resolvers/event-resolver';
import { RecommendationResolver } from './resolvers/recommendation-resolver';

const RESOLVERS = [
  EventResolver,
  CatalogResolver,
  RecommendationResolver,
  UserResolver,
  ItemResolver,
  RecentInteractionResolver,
] as const;

/**
 * type-graphql insists on a PubSub when a schema has subscriptions, though
 * ours never use topics: each brings its own `subscribe` fed by NATS
 * (src/api/subscriptions). Using a topic by mistake fails loudly.
 */
const NO_TOPIC_PUBSUB: PubSub = {
  publish() {
    throw new Error('recflow subscriptions do not use type-graphql topics');
  },
  subscribe() {
    throw new Error('recflow subscriptions do not use type-graphql topics');
  },
};

let built: Promise<GraphQLSchema> | undefined;

/** The schema; built once per process (type-graphql's metadata is global). */
export function recflowSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: RESOLVERS,
    validate: false,
    pubSub: NO_TOPIC_PUBSUB,
    // Our DateTimeISO (types/date-time.ts) for every Date, never type-graphql's own.
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
  }).then((schema) => {
    resolveDirectly(schema.getMutationType(), EVENT_MUTATIONS);
    guardResolvers(schema);
    return schema;
  });
  return built;
}

/** Replaces the resolvers type-graphql made for these fields; the schema itself is unchanged. */
function resolveDirectly(
  type: GraphQLObjectType | null | undefined,
  resolvers: Record<string, GraphQLFieldResolver<unknown, RequestContext, any>>,
): void {
  const fields = type?.getFields() ?? {};
  for (const [name, resolve] of Object.entries(resolvers)) {
    const field = fields[name];
    if (!field) throw new Error(`the schema has no field ${type?.name}.${name} to resolve`);
    field.resolve = resolve;
  }
}

/**
 * Makes every field's value safe for graphql-jit (compiled-execution.ts).
 * graphql-jit reads a field that has no resolver inline, walks a list value
 * and calls a value's `then` outside any try/catch: a getter, an iterator,
 * an array entry or a `then` that threw there hung the request and left a
 * rejection unhandled, where graphql-js reports a field error. So every
 * field gets a resolver (plain fields graphql-js's default one), and every
 * resolver's value is settled inside it: a promise (any thenable, native
 * ones included, as a native `then` reads the promise's constructor)
 * becomes a fresh native promise, and a list, at every level of a list
 * type, a fresh array of settled entries. For the plain values and native promises recflow's
 * resolvers return, graphql-js answers the same either way.
 */
export function guardResolvers(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve ?? defaultFieldResolver;
      const depth = listDepth(field.type);
      field.resolve = (source, args, context, info) =>
        settle(resolve(source, args, context, info), depth);
    }
  }
}

/** How many lists deep a type is: 0 for `Int`, 1 for `[Int!]!`, 2 for `[[Int]]`. */
function listDepth(type: GraphQLOutputType): number {
  const nullable = getNullableType(type);
  return isListType(nullable) ? 1 + listDepth(nullable.ofType) : 0;
}

/** A value with every promise made native and every list (to `depth`) a fresh array. */
function settle(value: unknown, depth: number): unknown {
  if (isThenable(value)) {
    // Whatever `then` throws, here, rejects the new promise.
    const settled = new Promise((resolve, reject) => {
      try {
        value.then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
    return depth > 0 ? settled.then((v) => settleList(v, depth)) : settled;
  }
  return depth > 0 ? settleList(value, depth) : value;
}

/**
 * An iterable object (an array included) as a fresh array of settled
 * entries; anything else as it is, for graphql-js or graphql-jit to refuse.
 */
function settleList(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const iterator = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof iterator !== 'function') return value;
  return Array.from(value as Iterable<unknown>, (entry) => settle(entry, depth - 1));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export async function printRecflowSchema(): Promise<string> {
  const header =
    '# recflow GraphQL schema. Generated from src/api/graphql by `npm run schema`; ' +
    'do not edit.\n\n';
  return header + printSchema(lexicographicSortSchema(await recflowSchema())) + '\n';
}
