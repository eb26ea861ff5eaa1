/**
 * Turning errors into what clients see. RecflowErrors keep their code and
 * message; GraphQL's own request errors (parse, validation, bad variables)
 * keep theirs; everything else is masked as INTERNAL_SERVER_ERROR with the
 * correlation id, and logged whole.
 */
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, Kind, type GraphQLFormattedError } from 'graphql';
import type { RequestContext } from './context';
import { QUERY_TOO_COMPLEX } from './operation-limits';
import { ErrorCode, RecflowError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';

/**
 * The correlation id of the request each error arose in. Apollo calls
 * formatError with the error alone, so errorRequestPlugin() notes the
 * request first (Apollo tells plugins of errors before it formats them).
 */
const requestOfError = new WeakMap<object, string>();

/** Notes which request each error belongs to, for the formatter's logs and answers. */
export function errorRequestPlugin(): ApolloServerPlugin<RequestContext> {
  // One listener for every request: it reads the request from its argument.
  const listener: GraphQLRequestListener<RequestContext> = {
    async didEncounterErrors({ errors, contextValue }) {
      for (const error of errors) requestOfError.set(error, contextValue.requestId);
    },
  };
  return { requestDidStart: async () => listener };
}

/**
 * Notes the request of an error raised where no plugin hears of it: while
 * the context is built, before Apollo's pipeline starts.
 */
export function noteErrorRequest(error: unknown, requestId: string): void {
  if (typeof error === 'object' && error !== null) requestOfError.set(error, requestId);
}

/** The request an error was noted for; Apollo may wrap the error it was noted as. */
function requestOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (
    requestOfError.get(error) ??
    (error instanceof GraphQLError && error.originalError
      ? requestOfError.get(error.originalError)
      : undefined)
  );
}

/** Codes that graphql-js and Apollo attach to caller mistakes. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'QUERY_TOO_COMPLEX',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * Apollo's refusals of a persisted-query extension, which it raises with
 * HTTP 400 but no code: the caller's mistakes, so BAD_REQUEST.
 */
const UNCODED_APOLLO_REFUSALS = new Set([
  'Unsupported persisted query version',
  'provided sha does not match query',
]);

/** graphql-js's messages, exactly (a resolver's error may not borrow the code). */
const ARGUMENT_REFUSED = [
  /^Argument "\w+" of non-null type "[\w![\]]+" must not be null\.$/,
  // The value is printed from the caller's own document.
  /^Argument "\w+" has invalid value [\s\S]+\.$/,
  new RegExp(
    '^Argument "\\w+" of required type "[\\w![\\]]+" was provided the variable "\\$\\w+" ' +
      'which was not provided a runtime value\\.$',
  ),
];

/** What was thrown, under any GraphQLErrors wrapped around it. */
function rootCause(error: unknown): unknown {
  let cause = error;
  while (cause instanceof GraphQLError && cause.originalError) cause = cause.originalError;
  return cause;
}

/**
 * The code Apollo gives graphql-js's request errors over HTTP, for the same
 * errors over WebSocket (graphql-ws sends them bare, as an error or as a
 * result with errors and no data): a variable that does not coerce, an
 * operation that cannot be found, a document that does not validate. Errors
 * with a code or a path, or with anything but graphql-js's own errors
 * inside, pass as they are.
 */
export function requestErrorCode(error: GraphQLError): GraphQLError {
  if (error.extensions.code || error.path || !(rootCause(error) instanceof GraphQLError)) {
    return error;
  }
  const code =
    error.nodes?.[0]?.kind === Kind.VARIABLE_DEFINITION
      ? 'BAD_USER_INPUT'
      : /^(Unknown operation named|Must provide operation name)/.test(error.message)
        ? 'OPERATION_RESOLUTION_FAILURE'
        : 'GRAPHQL_VALIDATION_FAILED';
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { ...error.extensions, code },
  });
}

/**
 * True for graphql-js's refusal of an argument while executing: a variable
 * that is null, or not given, where the argument may not be null (a
 * nullable variable may stand for a non-null argument that has a default).
 * It is the caller's mistake, but graphql-js raises it with no code.
 */
function argumentRefused(error: unknown): boolean {
  return (
    error instanceof GraphQLError &&
    error.originalError === undefined &&
    (error.locations?.length ?? 0) > 0 &&
    ARGUMENT_REFUSED.some((pattern) => pattern.test(error.message))
  );
}

/**
 * The formatter for Apollo's formatError and for subscriptions. Apollo
 * passes two arguments and the request comes from errorRequestPlugin();
 * the WebSocket path names the request itself.
 */
export function errorFormatter(log: Logger) {
  return (
    formatted: GraphQLFormattedError,
    error: unknown,
    requestId = requestOf(error),
  ): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    // Errors raised outside resolvers (say, in onSubscribe) carry ours as originalError.
    const original =
      unwrapped instanceof GraphQLError && unwrapped.originalError instanceof RecflowError
        ? unwrapped.originalError
        : unwrapped;
    if (original instanceof RecflowError) {
      if (original.retryable)
        log.warn({ err: original, requestId, code: original.code }, original.message);
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          ...original.details,
          code: original.code,
          retryable: original.retryable,
          requestId,
        },
      };
    }
    const refused = argumentRefused(unwrapped);
    const code = formatted.extensions?.operationLimit
      ? QUERY_TOO_COMPLEX
      : refused
        ? 'BAD_USER_INPUT'
        : UNCODED_APOLLO_REFUSALS.has(formatted.message) && !(unwrapped as GraphQLError).path
          ? 'BAD_REQUEST' // Apollo labelled it INTERNAL_SERVER_ERROR for want of a code
          : formatted.extensions?.code;
    // Errors of the request itself (parsing, validation, variables, which
    // operation) have no path and were made by graphql-js or Apollo. An
    // error raised while executing, or anything thrown (say, while a
    // context was made, or by a subscription's stream), is the caller's only
    // when recflow or graphql-js's argument check says so: a code set on any
    // other error could show its message to the client.
    const requestError =
      refused || (formatted.path === undefined && rootCause(unwrapped) instanceof GraphQLError);
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code) && requestError) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code },
      };
    }
    log.error({ err: original, requestId, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, requestId },
    };
  };
}
