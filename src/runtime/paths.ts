import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Versa's install folder (holds package.json), found from this compiled file in `dist/src/runtime/`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const NODE_BOOTSTRAP = path.join(PACKAGE_ROOT, 'dist/src/runtime/bootstrap/node/bootstrap.js');
export const PYTHON_BOOTSTRAP = path.join(PACKAGE_ROOT, 'src/runtime/bootstrap/python/bootstrap.py');

/**
 * The node_modules folder that holds the AWS SDK v3 clients, which functions may import as on AWS.
 * Resolved through Node itself so hoisting does not matter.
 */
export const SDK_NODE_MODULES = (() => {
  const pkg = createRequire(import.meta.url).resolve('@aws-sdk/client-lambda/package.json');
  return pkg.slice(0, pkg.lastIndexOf(`${path.sep}node_modules${path.sep}`) + '/node_modules'.length);
})();
