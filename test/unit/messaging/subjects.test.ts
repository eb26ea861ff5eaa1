import { Subjects, userFromToken, userToken } from '../../../src/messaging/subjects';

/** What NATS allows in one subject token: no separators, wildcards or whitespace. */
const SUBJECT_SAFE = /^[A-Za-z0-9_-]+$/;

const AWKWARD_IDS = [
  'user-1',
  'alice@example.com',
  'a.b.c',
  '.',
  '..leading.and.trailing..',
  '*',
  '>',
  'a.*.>',
  'two words',
  ' padded ',
  'tab\tseparated',
  'Zoë',
  'ユーザー',
  'emoji-🎧',
  '=',
  'a/b+c==',
  'x'.repeat(128),
  '🎧'.repeat(64),
];

describe('userToken', () => {
  test.each(AWKWARD_IDS)('round-trips the user id %j', (userId) => {
    expect(userFromToken(userToken(userId))).toBe(userId);
  });

  test.each(AWKWARD_IDS)('turns %j into subject-safe characters only', (userId) => {
    expect(userToken(userId)).toMatch(SUBJECT_SAFE);
  });

  test('gives different users different tokens', () => {
    const tokens = new Set(AWKWARD_IDS.map(userToken));
    expect(tokens.size).toBe(AWKWARD_IDS.length);
    expect(userToken('a.b')).not.toBe(userToken('a_b'));
    expect(userToken('user-1')).not.toBe(userToken('User-1'));
  });
});

describe('Subjects', () => {
  const subjects = new Subjects('recflow');

  test('names the event and dead-letter streams under the prefix', () => {
    expect(subjects.events).toBe('recflow.events.in');
    expect(subjects.deadLetters).toBe('recflow.events.dlq');
  });

  test.each(AWKWARD_IDS)("puts user %j's notices on one token below the prefix", (userId) => {
    const subject = subjects.userFeatures(userId);
    const tokens = subject.split('.');
    expect(tokens.slice(0, 3)).toEqual(['recflow', 'features', 'user']);
    expect(tokens).toHaveLength(4);
    expect(userFromToken(tokens[3])).toBe(userId);
  });

  test("matches every user's notices with a single-token wildcard", () => {
    expect(subjects.allUserFeatures).toBe('recflow.features.user.*');
    const wildcardPrefix = subjects.allUserFeatures.slice(0, -1);
    expect(subjects.userFeatures('a.b.c').startsWith(wildcardPrefix)).toBe(true);
  });

  test('keeps apart deployments with different prefixes', () => {
    const other = new Subjects('staging');
    expect(other.events).toBe('staging.events.in');
    expect(other.userFeatures('u')).not.toBe(subjects.userFeatures('u'));
  });
});
