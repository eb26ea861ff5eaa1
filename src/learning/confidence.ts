/**
 * From a net implicit weight to what the factorisation learns from: a
 * preference (does the user like the item, 1 or 0) and a confidence (how
 * sure we are). Following Hu, Koren and Volinsky (2008), with log scaling so
 * that one heavy buyer does not drown everything else:
 *
 *   p = 1 when w > 0, else 0
 *   c = 1 + alpha · ln(1 + |w| / epsilon)
 *
 * A negative weight (a dislike, a skip, a low rating) is a confident 0: it
 * counts against the item instead of being merely unobserved.
 */

export interface ConfidenceParams {
  alpha: number;
  epsilon: number;
}

export function preference(weight: number): 0 | 1 {
  return weight > 0 ? 1 : 0;
}

export function confidence(weight: number, params: ConfidenceParams): number {
  return 1 + params.alpha * Math.log1p(Math.abs(weight) / params.epsilon);
}
