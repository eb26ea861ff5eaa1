/**
 * Bounds on what one GraphQL operation may ask for, checked at validation
 * time, before anything runs: how many root fields (aliases included) and
 * how deep the selection goes. Without them one request of thousands of
 * aliased `recommendations` fields could exhaust the server's memory.
 */
import {
  type ASTVisitor,
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
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = { maxRootFields: 10, maxDepth: 10 };

export function operationLimitsRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const fragments = new Map(
        context
          .getDocument()
          .definitions.filter(
            (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
          )
          .map((d) => [d.name.value, d]),
      );
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
