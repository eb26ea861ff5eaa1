/**
 * Bounds on what one GraphQL operation may ask for, checked at validation
 * time, before anything runs: how many root fields (aliases included), how
 * deep the selection goes, and how many fields it has with its fragments
 * written out. Without them one request of thousands of aliased
 * `recommendations` fields, or a kilobyte of fragments that fan out, could
 * exhaust the server's memory. Each fragment is measured once, so the
 * check itself takes time linear in the document's length.
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
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const { roots, depth, fields } = measure(
        node.selectionSet,
        fragmentsOf(context.getDocument()),
      );
      // Unbounded only through a fragment cycle, which graphql-js's own
      // rule reports; three more errors would only say it again.
      if (fields === Infinity) return;
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
  });
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
 * Measures a selection set, each fragment once: a document whose fragments
 * double at every level (a kilobyte can ask for billions of fields) is
 * measured in time linear in its length. A fragment spread inside itself
 * (a cycle, which graphql-js's own rule refuses) measures as unbounded;
 * an unknown fragment (refused too) as empty.
 */
export function measure(set: SelectionSetNode, fragments: Fragments): SelectionSize {
  const known = new Map<string, SelectionSize>();
  const UNBOUNDED: SelectionSize = { roots: Infinity, depth: Infinity, fields: Infinity };
  const sizeOf = (selections: SelectionSetNode): SelectionSize => {
    const size: SelectionSize = { roots: 0, depth: 0, fields: 0 };
    const add = (inner: SelectionSize) => {
      size.roots += inner.roots;
      size.depth = Math.max(size.depth, inner.depth);
      size.fields += inner.fields;
    };
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? sizeOf(selection.selectionSet) : undefined;
        size.roots += 1;
        size.depth = Math.max(size.depth, 1 + (below?.depth ?? 0));
        size.fields += 1 + (below?.fields ?? 0);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(sizeOf(selection.selectionSet));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment) continue;
        let inner = known.get(name);
        if (inner === undefined) {
          known.set(name, UNBOUNDED); // in progress: a cycle reads it
          inner = sizeOf(fragment.selectionSet);
          known.set(name, inner);
        }
        add(inner);
      }
    }
    return size;
  };
  return sizeOf(set);
}
