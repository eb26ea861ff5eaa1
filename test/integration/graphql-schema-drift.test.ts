import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { printRecflowSchema } from '../../src/api/graphql/schema';

const COMMITTED = path.resolve(__dirname, '..', '..', 'schema', 'schema.graphql');

test('schema drift: committed schema/schema.graphql equals printRecflowSchema()', async () => {
  const committed = await readFile(COMMITTED, 'utf8');
  const printed = await printRecflowSchema();
  // On failure: run `npm run schema` and commit the result.
  expect(printed).toBe(committed);
});
