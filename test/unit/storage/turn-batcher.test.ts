import { TurnBatcher } from '../../../src/storage/turn-batcher';

function batcherOver(fail = false) {
  const calls: string[][] = [];
  const batcher = new TurnBatcher<string, string>(async (keys) => {
    calls.push(keys);
    if (fail) throw new Error('down');
    return keys.map((k) => k.toUpperCase());
  });
  return { batcher, calls };
}

test('loads asked for in one turn become one read of the distinct keys', async () => {
  const { batcher, calls } = batcherOver();
  const answers = await Promise.all([
    batcher.load(['a', 'b']),
    batcher.load(['b']),
    batcher.load(['c', 'a']),
  ]);
  expect(answers).toEqual([['A', 'B'], ['B'], ['C', 'A']]);
  expect(calls).toEqual([['a', 'b', 'c']]);
});

test('a later turn reads again: nothing is kept', async () => {
  const { batcher, calls } = batcherOver();
  await batcher.load(['a']);
  await batcher.load(['a']);
  expect(calls).toEqual([['a'], ['a']]);
});

test('a failed read fails every load of that turn, and the next turn reads afresh', async () => {
  const { batcher, calls } = batcherOver(true);
  const loads = [batcher.load(['a']), batcher.load(['b'])];
  for (const load of loads) await expect(load).rejects.toThrow('down');
  await expect(batcher.load(['c'])).rejects.toThrow('down');
  expect(calls).toEqual([['a', 'b'], ['c']]);
});
