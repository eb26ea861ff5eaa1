/**
 * Walks a WriteOrder both ways and checks that the two walks and its size
 * agree; returns its entries, oldest first.
 */
import type { Linked, WriteOrder } from '../../../src/storage/write-order';

export function walk<T extends Linked<T>>(order: WriteOrder<T>): T[] {
  const forward: T[] = [];
  for (let e = order.oldest; e !== undefined; e = e.newer) forward.push(e);
  const backward: T[] = [];
  for (let e = order.newest; e !== undefined; e = e.older) backward.push(e);
  expect(backward.reverse()).toEqual(forward);
  expect(forward).toHaveLength(order.size);
  return forward;
}

/** The private `order` of a cache that keeps one. */
export function orderOf<T extends Linked<T>>(cache: object): WriteOrder<T> {
  return (cache as { order: WriteOrder<T> }).order;
}
