import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type TestServer } from '../helpers/couch.js';
import { tempDir } from '../helpers/cli.js';

/**
 * A folder holding a `picas` executable that runs this checkout's CLI, for putting first on PATH: the
 * example scripts call `picas` as users' shells do. tsx is loaded by absolute path, so any cwd works.
 */
export function picasOnPath(): string {
  const bin = tempDir('bin');
  const loader = join(ROOT, 'node_modules/tsx/dist/loader.mjs');
  writeFileSync(join(bin, 'picas'), `#!/bin/sh\nexec "${process.execPath}" --import "file://${loader}" "${join(ROOT, 'src/cli/main.ts')}" "$@"\n`);
  chmodSync(join(bin, 'picas'), 0o755);
  return bin;
}

/** Environment for an example script: picas on PATH, connection from PICAS_* variables, an empty config folder. */
export function exampleEnv(server: TestServer, database: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${picasOnPath()}:${process.env.PATH}`,
    PICAS_HOST_URL: server.url,
    PICAS_DATABASE: database,
    PICAS_USERNAME: server.username,
    PICAS_PASSWORD: server.password,
    PICAS_CONFIG_DIR: tempDir('config'),
    ...extra,
  };
}
