/**
 * Reads MovieLens 100K (the ml-100k directory) into recflow's terms:
 *
 *   u.item  -> items: title, and genres as categories (Latin-1 encoded)
 *   u.user  -> users: age, gender, occupation and zip code as attributes
 *   u.data  -> RATE events with their original timestamps
 *
 * MovieLens ids are kept as recflow ids ("1", "42"), and each rating's event
 * id is derived from its user and item, so importing twice changes nothing.
 * The data is read from the given path and never copied.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ItemUpsert, UserUpsert } from '../catalog/validation';
import type { EventInput } from '../domain/events';
import { chunks, type Dataset } from './sinks';

export const MOVIELENS_FILES = ['u.data', 'u.item', 'u.user', 'u.genre'] as const;

export interface Rating {
  userId: string;
  itemId: string;
  rating: number;
  timestamp: number;
}

export async function readMovieLens(
  dir: string,
  batchSize = 1000,
): Promise<Dataset & { ratings: Rating[] }> {
  const read = async (name: string, encoding: BufferEncoding = 'utf8') => {
    try {
      return await readFile(path.join(dir, name), encoding);
    } catch (error) {
      throw new Error(
        `cannot read ${name} in ${dir}: is this a MovieLens 100K directory? ` +
          `(${(error as Error).message})`,
      );
    }
  };
  const genres = parseGenres(await read('u.genre'));
  const items = parseItems(await read('u.item', 'latin1'), genres);
  const users = parseUsers(await read('u.user'));
  const ratings = parseRatings(await read('u.data'));
  return {
    items,
    users,
    ratings,
    eventCount: ratings.length,
    events: () => mapChunks(chunks(ratings, batchSize), toEvent),
  };
}

export function parseGenres(text: string): string[] {
  const genres: string[] = [];
  for (const line of lines(text)) {
    const [name, index] = line.split('|');
    genres[Number(index)] = name;
  }
  return genres;
}

export function parseItems(text: string, genres: string[]): ItemUpsert[] {
  return lines(text).map((line) => {
    const fields = line.split('|');
    const flags = fields.slice(5);
    const categories = flags.flatMap((flag, i) =>
      flag === '1' && genres[i] !== 'unknown' ? [genres[i]] : [],
    );
    return {
      id: fields[0],
      title: fields[1],
      categories,
      attributes: { releaseDate: fields[2] || null, imdbUrl: fields[4] || null },
      available: true,
    };
  });
}

export function parseUsers(text: string): UserUpsert[] {
  return lines(text).map((line) => {
    const [id, age, gender, occupation, zip] = line.split('|');
    return { id, attributes: { age: Number(age), gender, occupation, zip } };
  });
}

export function parseRatings(text: string): Rating[] {
  return lines(text).map((line) => {
    const [userId, itemId, rating, timestamp] = line.split('\t');
    return { userId, itemId, rating: Number(rating), timestamp: Number(timestamp) };
  });
}

export function toEvent(r: Rating): EventInput {
  return {
    eventId: `ml100k-${r.userId}-${r.itemId}`,
    userId: r.userId,
    itemId: r.itemId,
    type: 'RATE',
    value: r.rating,
    occurredAt: new Date(r.timestamp * 1000),
  };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

function* mapChunks<A, B>(source: Iterable<A[]>, map: (a: A) => B): Iterable<B[]> {
  for (const chunk of source) yield chunk.map(map);
}
