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

  // Only items the model knows can say anything; a liked item it never saw
  // (or one that had no events in training, so zero factors) says nothing.
  const known = interactions.filter((x) => serving.itemIndex.has(x.itemId));
  if (!known.some((x) => x.weight > 0)) return { model: [], ease: [], itemKnn: [] };
  const vector = serving.foldIn(known);
  const knn = serving.neighbourScores(known);
  const ease = serving.easeScores(known);
  return {
    model: vector.some((v) => v !== 0) ? pick('model', serving.scores(vector)) : [],
    ease: ease ? pick('ease', withoutZeros(ease.scores), ease.because) : [],
    itemKnn: pick('itemKnn', withoutZeros(knn.scores), knn.because),
  };
}

/** Items no liked item points to score -Infinity, so they are never picked as filler. */
function withoutZeros(scores: Float64Array): Float64Array {
  for (let i = 0; i < scores.length; i += 1) if (scores[i] === 0) scores[i] = -Infinity;
  return scores;
}
