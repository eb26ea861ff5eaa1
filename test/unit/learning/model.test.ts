import { learnedCandidates } from '../../../src/learning/candidates';
import { decodeModel, encodeModel, ServingModel } from '../../../src/learning/model';
import { DEFAULT_MODEL_PARAMS, trainModel } from '../../../src/learning/train';
import type { Interaction } from '../../../src/learning/matrix';
import { seededRandom } from '../support/random';

/** Users 0-29 like items a0-a7, users 30-59 like b0-b7; "new" is in the catalogue only. */
function tastes(): Interaction[] {
  const random = seededRandom(4);
  const out: Interaction[] = [];
  for (let u = 0; u < 60; u += 1) {
    const group = u < 30 ? 'a' : 'b';
    for (let i = 0; i < 8; i += 1) {
      if (random() < 0.5) out.push({ userId: `u${u}`, itemId: `${group}${i}`, weight: 1 });
    }
  }
  return out;
}

const params = {
  ...DEFAULT_MODEL_PARAMS,
  ials: {
    ...DEFAULT_MODEL_PARAMS.ials,
    factors: 2,
    regularization: 0.01,
    regularizationExponent: 0,
    unobservedWeight: 1,
    alpha: 10,
  },
  ease: { ...DEFAULT_MODEL_PARAMS.ease, regularization: 5 },
};
const { model } = trainModel(tastes(), ['new'], params);

describe('encodeModel / decodeModel', () => {
  test('round-trips every part exactly', () => {
    const decoded = decodeModel(encodeModel(model));
    expect(decoded.itemIds).toEqual(model.itemIds);
    expect(decoded.params).toEqual(model.params);
    expect(decoded.itemFactors).toEqual(model.itemFactors);
    expect(decoded.neighbours.start).toEqual(model.neighbours.start);
    expect(decoded.neighbours.index).toEqual(model.neighbours.index);
    expect(decoded.neighbours.value).toEqual(model.neighbours.value);
    expect(decoded.ease).toEqual(model.ease);
  });

  test('round-trips a model without EASE', () => {
    const decoded = decodeModel(encodeModel({ ...model, ease: null }));
    expect(decoded.ease).toBeNull();
    expect(decoded.itemFactors).toEqual(model.itemFactors);
  });

  test('refuses bytes that are not a model, or are cut short', () => {
    expect(() => decodeModel(Buffer.from('hello world'))).toThrow(/bad magic/);
    const bytes = encodeModel(model);
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 4))).toThrow(/expected/);
  });

  test.each<[string, (m: typeof model) => typeof model]>([
    [
      'neighbour offsets that go backwards',
      (m) => {
        const start = Int32Array.from(m.neighbours.start);
        start[1] = start[2] + 1;
        return { ...m, neighbours: { ...m.neighbours, start } };
      },
    ],
    [
      'a neighbour index out of range',
      (m) => {
        const index = Int32Array.from(m.neighbours.index);
        index[0] = m.itemIds.length + 5;
        return { ...m, neighbours: { ...m.neighbours, index } };
      },
    ],
    [
      'a NaN factor',
      (m) => {
        const itemFactors = Float32Array.from(m.itemFactors);
        itemFactors[3] = NaN;
        return { ...m, itemFactors };
      },
    ],
    ['a duplicated item id', (m) => ({ ...m, itemIds: [m.itemIds[1], ...m.itemIds.slice(1)] })],
  ])('refuses a model with %s', (_, corrupt) => {
    expect(() => decodeModel(encodeModel(corrupt(model)))).toThrow(/inconsistent/);
  });

  test('knows catalogue items nobody touched, with zero factors', () => {
    const i = model.itemIds.indexOf('new');
    expect(i).toBeGreaterThanOrEqual(0);
    const k = params.ials.factors;
    expect([...model.itemFactors.subarray(i * k, (i + 1) * k)]).toEqual([0, 0]);
  });
});

describe('ServingModel and learnedCandidates', () => {
  const serving = new ServingModel(model);
  const liked = ['a0', 'a1', 'a2'].map((itemId) => ({ itemId, weight: 1 }));
  const lists = learnedCandidates(serving, liked, (id) => id.startsWith('a0'), 4);

  test.each(['model', 'ease', 'itemKnn'] as const)(
    '%s recommends the same taste to a user the model never saw',
    (source) => {
      const ids = lists[source].map((c) => c.itemId);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.every((id) => id.startsWith('a'))).toBe(true);
      expect(ids).not.toContain('a0');
      expect(lists[source].every((c) => c.source === source)).toBe(true);
    },
  );

  test('item-to-item candidates name a liked item as their reason', () => {
    for (const c of [...lists.ease, ...lists.itemKnn]) {
      expect(['a0', 'a1', 'a2']).toContain(c.because?.itemId);
    }
  });

  test('a user with no positive interaction gets no learned candidates', () => {
    const none = learnedCandidates(serving, [{ itemId: 'a0', weight: -6 }], () => false, 4);
    expect(none).toEqual({ model: [], ease: [], itemKnn: [] });
  });

  test('offers nothing when liked items carry no signal (unknown, zero factors)', () => {
    const none = { model: [], ease: [], itemKnn: [] };
    expect(
      learnedCandidates(serving, [{ itemId: 'brand-new', weight: 6 }], () => false, 4),
    ).toEqual(none);
    expect(learnedCandidates(serving, [{ itemId: 'new', weight: 6 }], () => false, 4)).toEqual(
      none,
    );
  });

  test('ignores items the model does not know', () => {
    const withUnknown = learnedCandidates(
      serving,
      [...liked, { itemId: 'not-in-model', weight: 5 }],
      (id) => id.startsWith('a0'),
      4,
    );
    expect(withUnknown.model.map((c) => c.itemId)).toEqual(lists.model.map((c) => c.itemId));
  });

  test('similar items come from the cosine neighbours', () => {
    const similar = serving.neighboursOf('b1');
    expect(similar.length).toBeGreaterThan(0);
    expect(similar.every((n) => n.itemId.startsWith('b'))).toBe(true);
    expect(serving.neighboursOf('unknown')).toEqual([]);
  });
});
