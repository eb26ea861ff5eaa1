/**
 * The one ingestion path, shared by the GraphQL mutations and the importers:
 * validate every event, reject the whole call on any bad one, then publish.
 */
import { ErrorCode, RecflowError } from '../domain/errors';
import {
  type EventInput,
  type EventLimits,
  type Interaction,
  validateEvent,
} from '../domain/events';
import type { EventPublisher, PublishedEvent } from './publisher';

export class IngestService {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly limits: EventLimits,
    readonly maxBatch: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Validates and records events; `field` names the argument in errors, and
   * `requestId`, when given, travels with each event to the worker.
   */
  async record(
    inputs: readonly EventInput[],
    field = 'inputs',
    requestId?: string,
  ): Promise<PublishedEvent[]> {
    if (inputs.length > this.maxBatch) {
      throw new RecflowError(
        ErrorCode.BATCH_TOO_LARGE,
        `${field} holds ${inputs.length} events; the maximum is ${this.maxBatch}`,
        { field, max: this.maxBatch },
      );
    }
    const now = this.now();
    const events: Interaction[] = inputs.map((input, i) =>
      validateEvent(
        input,
        now,
        this.limits,
        inputs.length === 1 && field === 'input' ? field : `${field}[${i}]`,
      ),
    );
    if (events.length === 0) return [];
    return this.publisher.publish(events, requestId);
  }
}
