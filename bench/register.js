/**
 * Runs the bench's TypeScript, and the src/ files it imports, directly, the
 * way Jest runs the tests (@swc/jest, same options as jest.config.js):
 * `node -r ./bench/register.js bench/main.ts`.
 *
 * The bench is not compiled into dist/ because src/ resolves some files
 * (the SQL migrations) relative to its own location; run from src/, as in
 * the tests, they resolve as they do from dist/.
 */
const { transformSync } = require('@swc/core');
const fs = require('node:fs');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...options, filename });
  module._compile(code, filename);
};
