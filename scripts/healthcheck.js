#!/usr/bin/env node
/**
 * Container health check (the image has no curl): exits 0 when
 * GET http://127.0.0.1:$RECFLOW_PORT/health answers 200 within 4 s, else 1
 * with the reason on stderr. RECFLOW_PORT defaults to 4000. Only the roles
 * that serve HTTP (gateway, all) can pass it.
 */
const http = require('node:http');

const TIMEOUT_MS = 4000;
const port = Number(process.env.RECFLOW_PORT || 4000);

function fail(reason) {
  process.stderr.write(`health check failed: ${reason}\n`);
  process.exit(1);
}

const request = http.get(
  { host: '127.0.0.1', port, path: '/health', timeout: TIMEOUT_MS },
  (response) => {
    response.resume();
    if (response.statusCode === 200) process.exit(0);
    fail(`GET /health answered ${response.statusCode}`);
  },
);
request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
request.on('error', (error) => fail(error.message));
