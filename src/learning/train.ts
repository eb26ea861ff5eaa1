/**
 * Training: from stored interactions to a servable model, with no I/O.
 * The caller reads the interactions and stores the result.
 */
import { DEFAULT_EASE_PARAMS, trainEase } from './ease';
import { DEFAULT_IALS_PARAMS, trainIals } from './ials';
import { DEFAULT_ITEM_KNN_PARAMS, trainItemKnn } from './item-knn';
import { buildMatrix, type Interaction, type InteractionMatrix } from './matrix';
import type { ModelParams, TrainedModel } from './model';

/**
 * Chosen on a validation split carved from the MovieLens 100K training part
 * (never on its test part); see the README's "Quality" section.
 */
export const DEFAULT_MODEL_PARAMS: ModelParams = {
  ials: DEFAULT_IALS_PARAMS,
  itemKnn: DEFAULT_ITEM_KNN_PARAMS,
  ease: DEFAULT_EASE_PARAMS,
};

export interface TrainingTimings {
  ialsMs: number;
  itemKnnMs: number;
  easeMs: number;
}

export interface TrainingResult {
  model: TrainedModel;
  matrix: InteractionMatrix;
  timings: TrainingTimings;
}

/**
 * Learns every part of the model. `catalogue` lists items that must be
 * known to the model even without interactions (they get zero factors).
 */
export function trainModel(
  interactions: Iterable<Interaction>,
  catalogue: readonly string[],
  params: ModelParams = DEFAULT_MODEL_PARAMS,
): TrainingResult {
  const matrix = buildMatrix(interactions, catalogue);
  const time = <T>(work: () => T): [T, number] => {
    const started = performance.now();
    const result = work();
    return [result, Math.round(performance.now() - started)];
  };
  const [factors, ialsMs] = time(() => trainIals(matrix, params.ials));
  const [neighbours, itemKnnMs] = time(() => trainItemKnn(matrix, params.itemKnn));
  const [ease, easeMs] = time(() => trainEase(matrix, params.ease));
  return {
    model: {
      params,
      itemIds: matrix.itemIds,
      itemFactors: Float32Array.from(factors.items),
      neighbours,
      ease: ease?.weights ?? null,
    },
    matrix,
    timings: { ialsMs, itemKnnMs, easeMs },
  };
}
