/**
 * A circuit breaker for one dependency. After `failureThreshold` failures in
 * a row it opens: calls fail at once, without waiting on a dead server, for
 * `openMs`. Then one trial call goes through (half-open); its success closes
 * the circuit, its failure opens it again.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  name: string;
  /** Consecutive failures that open the circuit. Default 3. */
  failureThreshold?: number;
  /** How long the circuit stays open before a trial, in ms. Default 2000. */
  openMs?: number;
  /** Called on every state change, for metrics and logs. */
  onStateChange?: (state: CircuitState, name: string) => void;
  now?: () => number;
}

export class CircuitOpenError extends Error {
  constructor(readonly dependency: string) {
    super(`${dependency} is unavailable (circuit open)`);
    this.name = 'CircuitOpenError';
  }
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private current: CircuitState = 'closed';
  /** Grows on every state change; outcomes of calls from an older epoch are ignored. */
  private epoch = 0;
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.threshold = options.failureThreshold ?? 3;
    this.openMs = options.openMs ?? 2000;
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.current;
  }

  /**
   * Runs `call` unless the circuit is open, and records its outcome. A call
   * that outlives the state it started in (say, a slow call still running
   * when the circuit opened) does not decide the new state.
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const epoch = this.admit();
    if (epoch === undefined) throw new CircuitOpenError(this.options.name);
    try {
      const result = await call();
      if (epoch === this.epoch) this.recordSuccess();
      return result;
    } catch (error) {
      if (epoch === this.epoch) this.recordFailure();
      throw error;
    }
  }

  /** The epoch the call is admitted in, or undefined when refused. */
  private admit(): number | undefined {
    if (this.current === 'closed') return this.epoch;
    if (this.current === 'open' && this.now() - this.openedAt >= this.openMs) {
      this.transition('half-open');
    }
    if (this.current === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return this.epoch;
    }
    return undefined;
  }

  private recordSuccess(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  private recordFailure(): void {
    this.failures += 1;
    this.trialInFlight = false;
    if (this.current === 'half-open' || this.failures >= this.threshold) {
      this.openedAt = this.now();
      if (this.current !== 'open') this.transition('open');
    }
  }

  private transition(state: CircuitState): void {
    this.current = state;
    this.epoch += 1;
    if (state !== 'closed') this.failures = 0;
    this.options.onStateChange?.(state, this.options.name);
  }
}
