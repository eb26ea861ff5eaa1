/**
 * One training run, pure computation: from a snapshot of the stored
 * interactions to an encoded model and its evaluation figures. It runs in a
 * worker thread (./train-thread.ts), so a long training never blocks the
 * event loop that serves requests or applies events.
 */
import type { BlendWeights } from '../domain/ranking';
import { evaluateHoldout, holdOut, type HoldoutFigures } from '../evaluation/holdout';
import { encodeModel, ServingModel, type ModelParams, type WeightedItem } from '../learning/model';
import { trainModel, type TrainingTimings } from '../learning/train';
import type { TrainingRow } from '../storage/postgres/model-repository';

export interface TrainingInput {
  rows: TrainingRow[];
  catalogue: string[];
  params: ModelParams;
  blendWeights: BlendWeights;
  /** Users whose latest positive interaction is held out for the figures. */
  holdoutUsers: number;
  seed: number;
}

export interface TrainingOutput {
  data: Uint8Array;
  evaluation: HoldoutFigures;
  timings: TrainingTimings & { evaluationMs: number; totalMs: number };
  users: number;
  items: number;
  interactions: number;
}

export function runTraining(input: TrainingInput): TrainingOutput {
  const started = performance.now();
  const { train, held } = holdOut(input.rows, input.holdoutUsers, input.seed);
  const { model, matrix, timings } = trainModel(train, input.catalogue, input.params);

  const evaluationStarted = performance.now();
  const history = new Map<string, WeightedItem[]>();
  for (const row of train) {
    if (!held.has(row.userId)) continue;
    const list = history.get(row.userId) ?? [];
    list.push({ itemId: row.itemId, weight: row.weight });
    history.set(row.userId, list);
  }
  const evaluation = evaluateHoldout(new ServingModel(model), history, held, input.blendWeights);
  const evaluationMs = Math.round(performance.now() - evaluationStarted);

  return {
    data: encodeModel(model),
    evaluation,
    timings: { ...timings, evaluationMs, totalMs: Math.round(performance.now() - started) },
    users: matrix.userIds.length,
    items: matrix.itemIds.length,
    interactions: input.rows.length,
  };
}
