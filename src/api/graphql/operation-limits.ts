/**
 * Bounds on what one GraphQL operation may ask for, checked at validation
 * time, before anything runs: how many root fields (aliases included), how
 * deep the selection goes, and how many fields it has with its fragments
 * written out. Without them one request of thousands of aliased
 * `recommendations` fields, or a kilobyte of fragments that fan out, could
 * exhaust the server's memory. Each fragment is measured once per
 * document, however many operations spread it, so the check itself takes
 * time linear in the document's length.
 */
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export interface OperationLimits {
  /** Most root fields per operation, aliases counted one by one. */
  maxRootFields: number;
  /** Deepest selection allowed, the root fields being depth 1. */
  maxDepth: number;
  /**
   * Most fields in the operation with every fragment written out where it
   * is spread, aliases counted one by one (a list's field counts once,
   * however many items it returns).
   */
  maxFields: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxRootFields: 10,
  maxDepth: 10,
  maxFields: 2000,
};

export function operationLimitsRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    // One memo for the whole document: a document of many operations that
    // spread the same fragments measures each fragment once, not once per
    // operation (20,000 operations took the rule 5 s before).
    let memo: MeasureMemo | undefined;
    return {
      OperationDefinition(node) {
        memo ??= measureMemo(fragmentsOf(context.getDocument()));
        const { roots, depth, fields, cyclic } = measure(node.selectionSet, memo);
        // graphql-js's own rule reports a fragment cycle; three more errors
        // would only say it again. (Sizes can reach Infinity without a cycle:
        // fragments that multiply at every level. Those are refused below.)
        if (cyclic) return;
        if (roots > limits.maxRootFields) {
          context.reportError(
            tooComplex(
              `the operation selects ${count(roots)} root fields; ` +
                `the limit is ${limits.maxRootFields}`,
            ),
          );
        }
        if (depth > limits.maxDepth) {
          context.reportError(
            tooComplex(
              `the operation is ${count(depth)} fields deep; the limit is ${limits.maxDepth}`,
            ),
          );
        }
        if (fields > limits.maxFields) {
          context.reportError(
            tooComplex(
              `the operation selects ${count(fields)} fields with its fragments written out; ` +
                `the limit is ${limits.maxFields}`,
            ),
          );
        }
      },
    };
  };
}

/** A count for a message; fragments that double at each level reach astronomical ones. */
function count(n: number): string {
  return n > 1e6 ? 'over a million' : String(n);
}

function tooComplex(message: string): GraphQLError {
  // Apollo relabels validation errors GRAPHQL_VALIDATION_FAILED; `operationLimit`
  // survives, and the error formatter restores the code from it.
  return new GraphQLError(message, {
    extensions: { code: QUERY_TOO_COMPLEX, operationLimit: true },
  });
}

type Fragments = Map<string, FragmentDefinitionNode>;

/** The fragments of a document, by name. */
export function fragmentsOf(document: DocumentNode): Fragments {
  const fragments: Fragments = new Map();
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  }
  return fragments;
}

/** The size of a selection set with every fragment written out where it is spread. */
export interface SelectionSize {
  /** Fields at its own level, aliases counted one by one. */
  roots: number;
  /** Deepest field below it, its own fields being depth 1. */
  depth: number;
  /** Fields at every level (a list's field counts once, however many items it returns). */
  fields: number;
}

/**
 * How deeply `measure` follows selection sets, fragments and inline
 * fragments into one another before it calls the operation unbounded. Each
 * fragment's text nests at most 64 levels (document-shape.ts), but a chain
 * of fragments adds their nesting up, and a recursion that deep would
 * exhaust the stack.
 */
export const MAX_MEASURED_NESTING = 1000;

/** Marks a fragment being measured: meeting it again means a cycle. */
const IN_PROGRESS: SelectionSize = Object.freeze({ roots: NaN, depth: NaN, fields: NaN });

/** A measured size, and whether a fragment cycle made it unbounded. */
export interface Measured extends SelectionSize {
  /** A fragment was spread inside itself (graphql-js's own rule reports it). */
  cyclic: boolean;
}

/** What measuring remembers across the operations of one document. */
export interface MeasureMemo {
  fragments: Fragments;
  /** Each fragment's size, once measured (or IN_PROGRESS while it is). */
  known: Map<string, SelectionSize>;
  /** A fragment cycle was met: the document is invalid whatever it asks. */
  cyclic: boolean;
}

export function measureMemo(fragments: Fragments): MeasureMemo {
  return { fragments, known: new Map(), cyclic: false };
}

/** Fields whose subtrees graphql-js's own rule bounds (MaxIntrospectionDepthRule). */
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Measures a selection set, each fragment once: a document whose fragments
 * double at every level (a kilobyte can ask for billions of fields) is
 * measured in time linear in its length. A fragment spread inside itself
 * (a cycle, which graphql-js's own rule refuses), or selections nested past
 * MAX_MEASURED_NESTING through fragments, measure as unbounded; an unknown
 * fragment (refused too) as empty. Below `__schema` and `__type` fields
 * count but depth does not: the standard introspection query is 15 fields
 * deep in its `ofType` chains, and graphql-js bounds introspection's depth.
 */
export function measure(set: SelectionSetNode, memo: MeasureMemo): Measured {
  const { fragments, known } = memo;
  const UNBOUNDED: SelectionSize = { roots: Infinity, depth: Infinity, fields: Infinity };
  const sizeOf = (selections: SelectionSetNode, nesting: number): SelectionSize => {
    if (nesting > MAX_MEASURED_NESTING) return UNBOUNDED;
    const size: SelectionSize = { roots: 0, depth: 0, fields: 0 };
    const add = (inner: SelectionSize) => {
      size.roots += inner.roots;
      size.depth = Math.max(size.depth, inner.depth);
      size.fields += inner.fields;
    };
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet
          ? sizeOf(selection.selectionSet, nesting + 1)
          : undefined;
        const counted = INTROSPECTION_ROOTS.has(selection.name.value) ? 0 : (below?.depth ?? 0);
        size.roots += 1;
        size.depth = Math.max(size.depth, 1 + counted);
        size.fields += 1 + (below?.fields ?? 0);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(sizeOf(selection.selectionSet, nesting + 1));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment) continue;
        let inner = known.get(name);
        if (inner === IN_PROGRESS) {
          memo.cyclic = true;
          inner = UNBOUNDED;
        } else if (inner === undefined) {
          known.set(name, IN_PROGRESS);
          inner = sizeOf(fragment.selectionSet, nesting + 1);
          known.set(name, inner);
        }
        add(inner);
      }
    }
    return size;
  };
  const size = sizeOf(set, 1);
  return { ...size, cyclic: memo.cyclic };
}
