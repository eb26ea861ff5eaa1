/**
 * `npm run schema`: writes schema/schema.graphql from the resolver classes.
 * With --check, exits 1 when the committed file differs instead.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { printRecflowSchema } from '../api/graphql/schema';

export const SCHEMA_FILE = path.resolve(__dirname, '..', '..', 'schema', 'schema.graphql');

export async function writeSchema(check: boolean): Promise<number> {
  const printed = await printRecflowSchema();
  if (check) {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (committed !== printed) {
      process.stderr.write(`${SCHEMA_FILE} is out of date; run npm run schema\n`);
      return 1;
    }
    return 0;
  }
  await writeFile(SCHEMA_FILE, printed);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  return 0;
}
