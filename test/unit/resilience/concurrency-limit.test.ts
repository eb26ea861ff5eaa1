import { ConcurrencyLimit, SlotTimeout } from '../../../src/resilience/concurrency-limit';

describe('ConcurrencyLimit', () => {
  test('runs at most `limit` tasks at once, the others in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (n: number) => async () => {
      started.push(n);
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      return n;
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => limit.run(task(n))));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(limit.waiting).toBe(0);
  });

  test('a failing task frees its slot', async () => {
    const limit = new ConcurrencyLimit(1);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit.run(async () => 'next')).resolves.toBe('next');
  });

  test('a task that waits too long for a slot is not run, and the queue moves on', async () => {
    const limit = new ConcurrencyLimit(1);
    let release!: () => void;
    const holder = limit.run(() => new Promise<void>((resolve) => (release = resolve)));
    let ran = false;
    const late = limit.run(async () => {
      ran = true;
    }, 20);
    const patient = limit.run(async () => 'patient', 10_000);
    await expect(late).rejects.toBeInstanceOf(SlotTimeout);
    expect(limit.waiting).toBe(1);
    release();
    await holder;
    await expect(patient).resolves.toBe('patient');
    expect(ran).toBe(false);
    expect(limit.waiting).toBe(0);
  });
});
