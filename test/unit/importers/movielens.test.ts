import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  parseGenres,
  parseItems,
  parseRatings,
  parseUsers,
  readMovieLens,
  toEvent,
} from '../../../src/importers/movielens';

// Small hand-written fixtures in the MovieLens 100K formats (not taken from the data set).
const GENRES = ['unknown|0', 'Action|1', 'Comedy|2', 'Drama|3', 'Sci-Fi|4', '', ''].join('\n');

const ITEMS = [
  '7|Paper Moons (1994)|01-Jan-1994||http://example.test/paper-moons|0|1|0|1|0',
  '12|Quiet Harbour (1996)|15-Mar-1996||http://example.test/quiet-harbour|0|0|1|0|1',
  '31|Lost Reel (1993)|||http://example.test/lost-reel|1|0|0|0|0',
  '40|Odd Mix (1995)|05-May-1995|||1|1|0|0|0',
].join('\n');

const USERS = ['3|31|F|writer|02139', '9|45|M|other|T8H1N', ''].join('\n');

const RATINGS = ['3\t7\t4\t880000000', '9\t12\t1\t885000123', '3\t31\t5\t890000001', ''].join('\n');

describe('parseGenres', () => {
  test('places each genre at its index and skips blank lines', () => {
    expect(parseGenres(GENRES)).toEqual(['unknown', 'Action', 'Comedy', 'Drama', 'Sci-Fi']);
  });

  test('follows the index column rather than the line order', () => {
    expect(parseGenres('Drama|2\nunknown|0\nAction|1')).toEqual(['unknown', 'Action', 'Drama']);
  });
});

describe('parseItems', () => {
  const genres = parseGenres(GENRES);
  const items = parseItems(ITEMS, genres);

  test('keeps the MovieLens ids unchanged, as strings, in file order', () => {
    expect(items.map((i) => i.id)).toEqual(['7', '12', '31', '40']);
  });

  test('reads the genres whose flag is set as categories', () => {
    expect(items[0].categories).toEqual(['Action', 'Drama']);
    expect(items[1].categories).toEqual(['Comedy', 'Sci-Fi']);
  });

  test("drops the 'unknown' genre, leaving the others", () => {
    expect(items[2].categories).toEqual([]);
    expect(items[3].categories).toEqual(['Action']);
  });

  test('keeps the title, release date and IMDb link, and marks the item available', () => {
    expect(items[0]).toEqual({
      id: '7',
      title: 'Paper Moons (1994)',
      categories: ['Action', 'Drama'],
      attributes: { releaseDate: '01-Jan-1994', imdbUrl: 'http://example.test/paper-moons' },
      available: true,
    });
  });

  test('stores a missing release date or link as null', () => {
    expect(items[2].attributes).toEqual({
      releaseDate: null,
      imdbUrl: 'http://example.test/lost-reel',
    });
    expect(items[3].attributes).toEqual({ releaseDate: '05-May-1995', imdbUrl: null });
  });

  test('reads Windows line endings like Unix ones', () => {
    expect(parseItems(ITEMS.replace(/\n/g, '\r\n'), genres)).toEqual(items);
  });
});

describe('parseUsers', () => {
  test('keeps the ids unchanged and reads age, gender, occupation and zip code', () => {
    expect(parseUsers(USERS)).toEqual([
      { id: '3', attributes: { age: 31, gender: 'F', occupation: 'writer', zip: '02139' } },
      { id: '9', attributes: { age: 45, gender: 'M', occupation: 'other', zip: 'T8H1N' } },
    ]);
  });
});

describe('parseRatings', () => {
  test('reads user, item, rating and Unix timestamp from tab-separated lines', () => {
    expect(parseRatings(RATINGS)).toEqual([
      { userId: '3', itemId: '7', rating: 4, timestamp: 880000000 },
      { userId: '9', itemId: '12', rating: 1, timestamp: 885000123 },
      { userId: '3', itemId: '31', rating: 5, timestamp: 890000001 },
    ]);
  });
});

describe('toEvent', () => {
  const rating = { userId: '9', itemId: '12', rating: 1, timestamp: 885000123 };

  test('makes a RATE event with the rating as value at the original time', () => {
    expect(toEvent(rating)).toEqual({
      eventId: 'ml100k-9-12',
      userId: '9',
      itemId: '12',
      type: 'RATE',
      value: 1,
      occurredAt: new Date(885000123 * 1000),
    });
  });

  test('derives the same event id from the same rating every time', () => {
    expect(toEvent({ ...rating }).eventId).toBe(toEvent(rating).eventId);
    expect(toEvent({ ...rating, rating: 5, timestamp: 1 }).eventId).toBe(toEvent(rating).eventId);
  });

  test('gives ratings of different user-item pairs different event ids', () => {
    const ids = parseRatings(RATINGS).map((r) => toEvent(r).eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(toEvent({ ...rating, userId: '1', itemId: '23' }).eventId).not.toBe(
      toEvent({ ...rating, userId: '12', itemId: '3' }).eventId,
    );
  });
});

describe('readMovieLens', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recflow-ml-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeFixture(items = ITEMS): Promise<void> {
    await writeFile(path.join(dir, 'u.genre'), GENRES);
    await writeFile(path.join(dir, 'u.item'), Buffer.from(items, 'latin1'));
    await writeFile(path.join(dir, 'u.user'), USERS);
    await writeFile(path.join(dir, 'u.data'), RATINGS);
  }

  test('reads items, users and ratings, and yields the events in batches', async () => {
    await writeFixture();
    const data = await readMovieLens(dir, 2);
    expect(data.items.map((i) => i.id)).toEqual(['7', '12', '31', '40']);
    expect(data.users.map((u) => u.id)).toEqual(['3', '9']);
    expect(data.eventCount).toBe(3);
    const batches = [...data.events()];
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(batches.flat()).toEqual(data.ratings.map(toEvent));
  });

  test('decodes u.item as Latin-1', async () => {
    await writeFixture('5|Café Noir (1995)|01-Jan-1995|||0|0|0|1|0');
    const data = await readMovieLens(dir);
    expect(data.items[0].title).toBe('Café Noir (1995)');
  });

  test('names the missing file and the directory when one is absent', async () => {
    await writeFixture();
    await rm(path.join(dir, 'u.user'));
    await expect(readMovieLens(dir)).rejects.toThrow(`cannot read u.user in ${dir}`);
  });
});
