/**
 * Bounds on what one GraphQL operation may ask for, checked at validation
 * time, before anything runs: how many root fields (aliases included) and
 * how deep the selection goes. Without them one request of thousands of
 * aliased `recommendations` fields could exhaust the server's memory.
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
      const fragments = fragmentsOf(context.getDocument());
      const roots = countFields(node.selectionSet, fragments, new Set());
      if (roots > limits.maxRootFields) {
        context.reportError(
          tooComplex(
            `the operation selects ${roots} root fields; the limit is ${limits.maxRootFields}`,
          ),
        );
      }
      const depth = depthOf(node.selectionSet, fragments, new Set());
      if (depth > limits.maxDepth) {
        context.reportError(
          tooComplex(`the operation is ${depth} fields deep; the limit is ${limits.maxDepth}`),
        );
      }
      const fields = expandedFields(node.selectionSet, fragments);
      if (fields > limits.maxFields) {
        context.reportError(
          tooComplex(
            `the operation selects ${fields > 1e6 ? 'over a million' : fields} fields with its ` +
              `fragments written out; the limit is ${limits.maxFields}`,
          ),
        );
      }
    },
  });
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

/**
 * Fields under `set` with every fragment written out where it is spread:
 * the size of the plan an executor walks (or compiles). Each fragment is
 * sized once, so a document whose fragments fan out to billions of fields
 * is sized in time linear in its length. A fragment spread inside itself
 * (a cycle, refused by graphql-js's own rule) counts as unbounded.
 */
export function expandedFields(set: SelectionSetNode, fragments: Fragments): number {
  const sizes = new Map<string, number>();
  const size = (selections: SelectionSetNode): number => {
    let count = 0;
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        count += 1 + (selection.selectionSet ? size(selection.selectionSet) : 0);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        count += size(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment) continue;
        let known = sizes.get(name);
        if (known === undefined) {
          sizes.set(name, Infinity); // in progress: a cycle reads Infinity
          known = size(fragment.selectionSet);
          sizes.set(name, known);
        }
        count += known;
      }
    }
    return count;
  };
  return size(set);
}

function countFields(set: SelectionSetNode, fragments: Fragments, visiting: Set<string>): number {
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) count += 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countFields(selection.selectionSet, fragments, visiting);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      count += countFields(fragment.selectionSet, fragments, visiting);
      visiting.delete(fragment.name.value);
    }
  }
  return count;
}

function depthOf(set: SelectionSetNode, fragments: Fragments, visiting: Set<string>): number {
  let deepest = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const below = selection.selectionSet
        ? depthOf(selection.selectionSet, fragments, visiting)
        : 0;
      deepest = Math.max(deepest, 1 + below);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, visiting));
    } else {
      const fragment = fragments.get(selection.name.value);
      // Cycles are reported by graphql-js's own NoFragmentCycles rule.
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, fragments, visiting));
      visiting.delete(fragment.name.value);
    }
  }
  return deepest;
}
