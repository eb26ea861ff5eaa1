/**
 * Sending writes to Redis in pipelines: replies checked, and large writes
 * split so that none outlasts the command timeout.
 */
import type { RedisClient } from './client';

type Pipeline = ReturnType<RedisClient['pipeline']>;

/** Most keys one pipeline of a write names (see Writes). */
const KEYS_PER_PIPELINE = 1024;

/**
 * The commands of one write, in pipelines of at most KEYS_PER_PIPELINE keys
 * (a script counts the keys it names), sent one after another. Each
 * command's timeout then runs from when its own pipeline is sent. Sent as
 * one pipeline, a write that outlasted the timeout (1,000 items in 50
 * categories each) failed whole, and its retry, merged with what had
 * queued meanwhile, failed again, for good.
 */
export class Writes {
  private readonly pipelines: Pipeline[] = [];
  private keys = 0;

  constructor(private readonly redis: RedisClient) {}

  /** The pipeline to queue a command naming `keys` keys on. */
  pipeline(keys: number): Pipeline {
    if (this.pipelines.length === 0 || (this.keys > 0 && this.keys + keys > KEYS_PER_PIPELINE)) {
      this.pipelines.push(this.redis.pipeline());
      this.keys = 0;
    }
    this.keys += keys;
    return this.pipelines[this.pipelines.length - 1];
  }

  /** Sends the pipelines in order; rejects with the first error, sending no more. */
  async send(): Promise<void> {
    for (const pipeline of this.pipelines) await execOrThrow(pipeline);
  }
}

/** Sends a pipeline and resolves with its replies; rejects with the first command's error. */
export async function execOrThrow(pipeline: Pipeline): Promise<Array<[Error | null, unknown]>> {
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed) throw failed[0];
  return replies;
}
