/**
 * `recflow train`, `recflow model list` and `recflow model rollback`.
 */
import { createTrainer, type Core } from '../app/app';
import type { ModelInfo } from '../storage/postgres/model-repository';

/** Trains once from the stored interactions and stores the new version. */
export async function trainCommand(core: Core): Promise<number> {
  const report = await createTrainer(core).train();
  if (!report) {
    process.stderr.write('no interactions are stored yet; nothing to train\n');
    return 1;
  }
  const { model, output, snapshotMs } = report;
  const t = output.timings;
  process.stdout.write(
    `model version ${model.version} stored: ${output.interactions} interactions, ` +
      `${output.users} users, ${output.items} items\n` +
      `  read ${(snapshotMs / 1000).toFixed(1)} s; trained in ${(t.totalMs / 1000).toFixed(1)} s ` +
      `(iALS ${t.ialsMs} ms, item-kNN ${t.itemKnnMs} ms, EASE ${t.easeMs} ms, ` +
      `evaluation ${t.evaluationMs} ms)\n` +
      `  held-out check on ${output.evaluation.users} users: ` +
      `${describeEvaluation(model.evaluation)}\n`,
  );
  return 0;
}

export async function modelCommand(core: Core, args: string[]): Promise<number> {
  const [action] = args;
  if (action === 'list') return listModels(core);
  if (action === 'rollback') return rollback(core);
  throw new ModelUsageError('usage: recflow model list | recflow model rollback');
}

export class ModelUsageError extends Error {}

async function listModels(core: Core): Promise<number> {
  const models = await core.models.list();
  if (models.length === 0) {
    process.stdout.write('no model is stored yet; run `recflow train`\n');
    return 0;
  }
  const serving = (await core.models.serving())?.version;
  const rows = models.map((m) => [
    String(m.version),
    m.version === serving ? 'serving' : m.retiredAt ? 'retired' : 'standby',
    m.createdAt.toISOString(),
    m.watermark.streamSeq === null ? '-' : String(m.watermark.streamSeq),
    String(m.interactions),
    `${(m.sizeBytes / 1024 / 1024).toFixed(1)} MiB`,
    describeEvaluation(m.evaluation),
  ]);
  const header = [
    'version',
    'status',
    'trained at',
    'watermark seq',
    'interactions',
    'size',
    'held-out figures',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
  return 0;
}

async function rollback(core: Core): Promise<number> {
  const result = await core.models.rollback();
  if (!result) {
    process.stderr.write(
      'nothing to roll back to: fewer than two serviceable versions are stored\n',
    );
    return 1;
  }
  await createTrainer(core).announce(result.serving.version);
  process.stdout.write(
    `retired version ${result.retired.version}; version ${result.serving.version} serves again\n`,
  );
  return 0;
}

/** "blend HR@10 0.412 NDCG@10 0.231; model ..." from stored figures. */
export function describeEvaluation(evaluation: ModelInfo['evaluation']): string {
  const sources = (evaluation as { sources?: Record<string, Record<string, { mean: number }>> })
    ?.sources;
  if (!sources) return '-';
  return Object.entries(sources)
    .map(
      ([name, f]) =>
        `${name} HR@10 ${f['hr@10']?.mean.toFixed(3)} NDCG@10 ${f['ndcg@10']?.mean.toFixed(3)}`,
    )
    .join('; ');
}
