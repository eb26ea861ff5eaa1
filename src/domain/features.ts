/**
 * The features recflow keeps per user and per item: what the pipeline
 * writes, what the hot copy holds and what ranking reads. Plain data only.
 */
import type { EventType } from './events';

/** How many of a user's latest interactions the features keep. */
export const RECENT_INTERACTIONS = 20;

export interface CategoryAffinity {
  category: string;
  events: number;
  /** ln of the positive decayed sum, or null when there is none. */
  logPos: number | null;
  /** ln of the negative decayed sum (as a positive number), or null. */
  logNeg: number | null;
}

export interface RecentInteraction {
  itemId: string;
  type: EventType;
  value: number | null;
  /** The event's implicit-feedback weight: positive is interest. */
  weight: number;
  at: number;
}

export interface UserFeatures {
  userId: string;
  /** Grows on every change; the hot copy ignores writes older than it holds. */
  version: number;
  events: number;
  positives: number;
  negatives: number;
  firstAt: number;
  lastAt: number;
  /** Every category the user touched, strongest affinity first. */
  categories: CategoryAffinity[];
  /** Latest interactions by event time, newest first. */
  recent: RecentInteraction[];
  /** Items with net negative interest: always excluded from recommendations. */
  disliked: string[];
  /**
   * Every item the user interacted with: excluded from recommendations by
   * default. It only grows, so the hot copy keeps it apart from the record
   * and appends to it without reading it back. In no particular order:
   * PostgreSQL gives it sorted, the hot copy in the order items were added.
   */
  seen: string[];
}

export interface ItemFeatures {
  itemId: string;
  /** Catalogue version plus feature version: grows on every change. */
  version: number;
  /** False for an item the pipeline saw before the catalogue knew it. */
  known: boolean;
  title: string;
  categories: string[];
  available: boolean;
  attributes: Record<string, unknown>;
  events: number;
  positives: number;
  negatives: number;
  ratingSum: number;
  ratingCount: number;
  /** Undecayed positive weight. */
  popAll: number;
  logDay: number | null;
  logWeek: number | null;
  logMonth: number | null;
  lastAt: number | null;
}

/** Popularity windows a client can ask for. */
export const POPULARITY_WINDOWS = ['DAY', 'WEEK', 'MONTH', 'ALL_TIME'] as const;
export type PopularityWindow = (typeof POPULARITY_WINDOWS)[number];

/** An item's score in a window, comparable only within that window. */
export function popularityScore(item: ItemFeatures, window: PopularityWindow): number | null {
  switch (window) {
    case 'DAY':
      return item.logDay;
    case 'WEEK':
      return item.logWeek;
    case 'MONTH':
      return item.logMonth;
    case 'ALL_TIME':
      return item.popAll > 0 ? item.popAll : null;
  }
}
