/**
 * Implicit-feedback weights: how much an event says about a user's interest
 * in an item. Positive weights are interest, negative ones are aversion.
 *
 * Weights are applied when an event is processed and stored inside the
 * features, so changing them affects only events processed afterwards (a
 * replay into an empty database recomputes everything).
 */
import type { EventType, Interaction } from './events';

export type EventWeights = Readonly<Record<Exclude<EventType, 'RATE'>, number>>;

export const DEFAULT_EVENT_WEIGHTS: EventWeights = {
  VIEW: 1,
  CLICK: 2,
  ADD_TO_CART: 4,
  PURCHASE: 8,
  LIKE: 6,
  DISLIKE: -6,
  SKIP: -1,
};

/** The largest quantity that still adds weight: 10,000 units weigh as about ten single ones. */
export const MAX_WEIGHED_QUANTITY = 10_000;

/**
 * The weight of one interaction.
 *
 * - RATE maps the rating, rescaled to 1..5, onto 2·(r − 2.5): a 5 is +5, a 4
 *   is +3, a 3 is +1 (mild interest), a 2 is −1 and a 1 is −3.
 * - PURCHASE and ADD_TO_CART with a quantity q scale by 1 + ln(q), so bulk
 *   orders count more without drowning everything else. Quantities above
 *   MAX_WEIGHED_QUANTITY weigh as that many: otherwise one event of 1e300
 *   units would weigh as about 690 single purchases.
 */
export function eventWeight(
  interaction: Pick<Interaction, 'type' | 'value'>,
  weights: EventWeights = DEFAULT_EVENT_WEIGHTS,
  ratingMax = 5,
): number {
  const { type, value } = interaction;
  if (type === 'RATE') {
    const onFive = ((value ?? 0) / ratingMax) * 5;
    return 2 * (onFive - 2.5);
  }
  const base = weights[type];
  if ((type === 'PURCHASE' || type === 'ADD_TO_CART') && value !== null && value > 1) {
    return base * (1 + Math.log(Math.min(value, MAX_WEIGHED_QUANTITY)));
  }
  return base;
}

/** Parses `VIEW=1,CLICK=2,...`; unnamed types keep their defaults. */
export function parseEventWeights(text: string): EventWeights {
  const weights: Record<string, number> = { ...DEFAULT_EVENT_WEIGHTS };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, raw] = part.split('=').map((p) => p.trim());
    if (!Object.hasOwn(DEFAULT_EVENT_WEIGHTS, name)) {
      throw new Error(`unknown event type "${name}" (RATE is derived from the rating)`);
    }
    const weight = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(weight)) {
      throw new Error(`weight for ${name} must be a finite number`);
    }
    weights[name] = weight;
  }
  return weights as EventWeights;
}
