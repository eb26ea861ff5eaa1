/**
 * The learned candidate sources for one user, from that user's current
 * interactions:
 *
 *   model    iALS, with the user's vector folded in afresh
 *   ease     EASE item-item weights (small catalogues only)
 *   itemKnn  cosine neighbours of the items the user liked
 *
 * Each returns its best `perSource` items as domain candidates; the
 * item-to-item ones name the liked item that contributed most, which is
 * what the explanation shows.
 */
import type { Candidate } from '../domain/ranking';
import type { ServingModel, WeightedItem } from './model';
import { topN } from './top-n';

export interface LearnedCandidates {
  model: Candidate[];
  ease: Candidate[];
  itemKnn: Candidate[];
}

export function learnedCandidates(
  serving: ServingModel,
  interactions: readonly WeightedItem[],
  skip: (itemId: string) => boolean,
  perSource: number,
): LearnedCandidates {
  const ids = serving.model.itemIds;
  const skipIndex = (i: number) => skip(ids[i]);
  const pick = (
    source: Candidate['source'],
    scores: Float64Array,
    because?: Int32Array,
  ): Candidate[] =>
    topN(scores, perSource, skipIndex, serving.tieRank).map((i) => ({
      itemId: ids[i],
      source,
      score: scores[i],
      ...(because && because[i] >= 0 ? { because: { itemId: ids[because[i]] } } : {}),
    }));

  const positive = interactions.some((x) => x.weight > 0);
  if (!positive) return { model: [], ease: [], itemKnn: [] };
  const vector = serving.foldIn(interactions);
  const knn = serving.neighbourScores(interactions);
  const ease = serving.easeScores(interactions);
  return {
    model: pick('model', serving.scores(vector)),
    ease: ease ? pick('ease', ease.scores, ease.because) : [],
    itemKnn: pick('itemKnn', withoutZeros(knn.scores), knn.because),
  };
}

/** Items no liked item points to score -Infinity, so they are never picked. */
function withoutZeros(scores: Float64Array): Float64Array {
  for (let i = 0; i < scores.length; i += 1) if (scores[i] === 0) scores[i] = -Infinity;
  return scores;
}
