/**
 * WriteOrder: entries in write order, any one taken out at once.
 */
import { type Linked, WriteOrder } from '../../../src/storage/write-order';
import { walk } from '../support/write-order';

type Item = Linked<Item> & { name: string };
const item = (name: string): Item => ({ name, older: undefined, newer: undefined });
const names = (order: WriteOrder<Item>) => walk(order).map((i) => i.name);

describe('WriteOrder', () => {
  it('keeps entries oldest first and takes any one out', () => {
    const order = new WriteOrder<Item>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item);
    for (const x of [a, b, c, d]) order.append(x);
    expect(names(order)).toEqual(['a', 'b', 'c', 'd']);
    order.remove(b); // the middle
    expect(names(order)).toEqual(['a', 'c', 'd']);
    order.remove(a); // the oldest
    order.remove(d); // the newest
    expect(names(order)).toEqual(['c']);
    expect(order.oldest).toBe(c);
    expect(order.newest).toBe(c);
    order.remove(c);
    expect(names(order)).toEqual([]);
    expect(order.oldest).toBeUndefined();
  });

  it('lets a removed entry be appended again, as the newest', () => {
    const order = new WriteOrder<Item>();
    const [a, b] = ['a', 'b'].map(item);
    order.append(a);
    order.append(b);
    order.remove(a);
    expect(a.older).toBeUndefined();
    expect(a.newer).toBeUndefined();
    order.append(a);
    expect(names(order)).toEqual(['b', 'a']);
  });

  it('forgets every entry on clear', () => {
    const order = new WriteOrder<Item>();
    for (const x of ['a', 'b', 'c'].map(item)) order.append(x);
    order.clear();
    expect(names(order)).toEqual([]);
    order.append(item('d'));
    expect(names(order)).toEqual(['d']);
  });
});
