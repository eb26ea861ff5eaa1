import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  type CircuitState,
} from '../../../src/resilience/circuit-breaker';

const OPEN_MS = 1000;

/** A breaker on a hand-driven clock, recording every state it reports. */
function breaker(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = { ms: 10_000 };
  const changes: Array<[CircuitState, string]> = [];
  const circuit = new CircuitBreaker({
    name: 'redis',
    failureThreshold: 3,
    openMs: OPEN_MS,
    onStateChange: (state, name) => changes.push([state, name]),
    now: () => clock.ms,
    ...options,
  });
  return { circuit, clock, changes, states: () => changes.map(([state]) => state) };
}

const down = new Error('connection refused');
const fail = () => Promise.reject(down);
const succeed = () => Promise.resolve('ok');

async function failTimes(circuit: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await expect(circuit.run(fail)).rejects.toBe(down);
}

describe('CircuitBreaker while closed', () => {
  test('starts closed and passes the call through, returning its result', async () => {
    const { circuit, states } = breaker();
    const call = jest.fn(succeed);
    expect(circuit.state).toBe('closed');
    await expect(circuit.run(call)).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(1);
    expect(circuit.state).toBe('closed');
    expect(states()).toEqual([]);
  });

  test("rethrows the call's own error while below the threshold", async () => {
    const { circuit, states } = breaker();
    await failTimes(circuit, 2);
    expect(circuit.state).toBe('closed');
    expect(states()).toEqual([]);
  });

  test('opens after the configured number of consecutive failures', async () => {
    const { circuit, changes } = breaker();
    await failTimes(circuit, 3);
    expect(circuit.state).toBe('open');
    expect(changes).toEqual([['open', 'redis']]);
  });

  test('counts only consecutive failures: a success starts the count again', async () => {
    const { circuit } = breaker();
    await failTimes(circuit, 2);
    await circuit.run(succeed);
    await failTimes(circuit, 2);
    expect(circuit.state).toBe('closed');
    await failTimes(circuit, 1);
    expect(circuit.state).toBe('open');
  });

  test('opens after 3 failures when no threshold is given', async () => {
    const { circuit } = breaker({ failureThreshold: undefined });
    await failTimes(circuit, 2);
    expect(circuit.state).toBe('closed');
    await failTimes(circuit, 1);
    expect(circuit.state).toBe('open');
  });
});

describe('CircuitBreaker while open', () => {
  test('fails fast with CircuitOpenError naming the dependency, making no call', async () => {
    const { circuit, clock } = breaker();
    await failTimes(circuit, 3);
    clock.ms += OPEN_MS - 1;
    const call = jest.fn(succeed);
    const error = await circuit.run(call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ name: 'CircuitOpenError', dependency: 'redis' });
    expect((error as Error).message).toBe('redis is unavailable (circuit open)');
    expect(call).not.toHaveBeenCalled();
    expect(circuit.state).toBe('open');
  });

  test('stays open for 2000 ms when no openMs is given', async () => {
    const { circuit, clock } = breaker({ openMs: undefined });
    await failTimes(circuit, 3);
    clock.ms += 1999;
    await expect(circuit.run(succeed)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.ms += 1;
    await expect(circuit.run(succeed)).resolves.toBe('ok');
  });
});

describe('CircuitBreaker after openMs (half-open)', () => {
  test('lets exactly one trial call through and fails the others fast meanwhile', async () => {
    const { circuit, clock, states } = breaker();
    await failTimes(circuit, 3);
    clock.ms += OPEN_MS;

    let finishTrial: (value: string) => void = () => undefined;
    const trial = jest.fn(() => new Promise<string>((resolve) => (finishTrial = resolve)));
    const outcome = circuit.run(trial).catch((error: unknown) => error);
    expect(circuit.state).toBe('half-open');
    expect(states()).toEqual(['open', 'half-open']);

    const other = jest.fn(succeed);
    await expect(circuit.run(other)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(other).not.toHaveBeenCalled();
    expect(trial).toHaveBeenCalledTimes(1);

    finishTrial('recovered');
    await expect(outcome).resolves.toBe('recovered');
  });

  test('closes when the trial succeeds, and then passes every call through', async () => {
    const { circuit, clock, changes } = breaker();
    await failTimes(circuit, 3);
    clock.ms += OPEN_MS;
    await expect(circuit.run(succeed)).resolves.toBe('ok');
    expect(circuit.state).toBe('closed');
    expect(changes).toEqual([
      ['open', 'redis'],
      ['half-open', 'redis'],
      ['closed', 'redis'],
    ]);
    const calls = jest.fn(succeed);
    await Promise.all([circuit.run(calls), circuit.run(calls), circuit.run(calls)]);
    expect(calls).toHaveBeenCalledTimes(3);
  });

  test('needs a full threshold of new failures to open again after closing', async () => {
    const { circuit, clock } = breaker();
    await failTimes(circuit, 3);
    clock.ms += OPEN_MS;
    await circuit.run(succeed);
    await failTimes(circuit, 2);
    expect(circuit.state).toBe('closed');
  });

  test('opens again when the trial fails, for a fresh openMs from that failure', async () => {
    const { circuit, clock, states } = breaker();
    await failTimes(circuit, 3);
    clock.ms += OPEN_MS + 500;
    await expect(circuit.run(fail)).rejects.toBe(down);
    expect(circuit.state).toBe('open');
    expect(states()).toEqual(['open', 'half-open', 'open']);

    clock.ms += OPEN_MS - 1;
    const call = jest.fn(succeed);
    await expect(circuit.run(call)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(call).not.toHaveBeenCalled();

    clock.ms += 1;
    await expect(circuit.run(call)).resolves.toBe('ok');
    expect(states()).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  test('reports each transition once, in order, with the dependency name', async () => {
    const { circuit, clock, changes } = breaker({ name: 'postgres', failureThreshold: 1 });
    await failTimes(circuit, 1);
    clock.ms += OPEN_MS;
    await failTimes(circuit, 1);
    clock.ms += OPEN_MS;
    await circuit.run(succeed);
    await circuit.run(succeed);
    expect(changes).toEqual([
      ['open', 'postgres'],
      ['half-open', 'postgres'],
      ['open', 'postgres'],
      ['half-open', 'postgres'],
      ['closed', 'postgres'],
    ]);
  });
});

describe('CircuitBreaker with overlapping calls', () => {
  test('a slow call that succeeds after the circuit opened does not close it', async () => {
    const { circuit } = breaker();
    let finish: (value: string) => void = () => undefined;
    const slow = circuit.run(() => new Promise<string>((resolve) => (finish = resolve)));
    await failTimes(circuit, 3);
    expect(circuit.state).toBe('open');
    finish('late');
    await expect(slow).resolves.toBe('late');
    expect(circuit.state).toBe('open');
  });

  test('a slow failure from before the trial does not end the trial', async () => {
    const { circuit, clock } = breaker();
    let reject: (error: Error) => void = () => undefined;
    const slow = circuit.run(() => new Promise<string>((_, r) => (reject = r)));
    await failTimes(circuit, 3);
    clock.ms += OPEN_MS;
    let finishTrial: (value: string) => void = () => undefined;
    const trial = circuit.run(() => new Promise<string>((resolve) => (finishTrial = resolve)));
    expect(circuit.state).toBe('half-open');
    reject(down);
    await expect(slow).rejects.toBe(down);
    expect(circuit.state).toBe('half-open');
    await expect(circuit.run(succeed)).rejects.toBeInstanceOf(CircuitOpenError);
    finishTrial('ok');
    await expect(trial).resolves.toBe('ok');
    expect(circuit.state).toBe('closed');
  });
});
