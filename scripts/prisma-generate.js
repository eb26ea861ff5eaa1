#!/usr/bin/env node
/**
 * Generates the Prisma client without any download. `prisma generate` asks
 * for the native schema engine only to validate paths it never runs here;
 * pointing it at a harmless binary keeps it offline. Migrations are applied
 * by recflow itself (src/storage/postgres/migrate.ts).
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || '/bin/true',
  CHECKPOINT_DISABLE: '1',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const cli = path.join(__dirname, '..', 'node_modules', 'prisma', 'build', 'index.js');
const result = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
