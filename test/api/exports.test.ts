// The public API is the CLI's: everything a command does is reachable from the package's entry point
// (built, as users import it), so a script can do what `picas <command>` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/couch.js';

test('the package entry exports the library behind every command', async () => {
  const api = await import(pathToFileURL(join(ROOT, 'dist/index.js')).href) as Record<string, unknown>;
  const behind: Record<string, string[]> = {
    'connecting (every command)': ['connect', 'CouchServer', 'resolveSettings'],
    'picas serve': ['startEmbeddedServer'],
    'picas views': ['ensureDesignDocs'],
    'picas push': ['pushTokens', 'checkRecords', 'fileRecords', 'sweepRecords', 'spoolStdin'],
    'picas run': ['runPilot', 'commandTask', 'runCommand', 'claimTokens', 'CandidateReader'],
    'picas status / show': ['countStates'],
    'picas reset / delete / export / users': ['resetTokens', 'deleteTokens', 'exportTokens', 'setUsers', 'getUsers'],
    'picas drain': ['setDrain'],
  };
  const missing = Object.entries(behind).flatMap(([command, names]) =>
    names.filter((n) => typeof api[n] !== 'function').map((n) => `${n} (${command})`));
  assert.deepEqual(missing, []);
});
