import { createInterface } from 'node:readline';
import { spawnCli } from '../helpers/cli.js';

/** Start `picas dashboard --port 0` as a user would and resolve with its URL (its first line on stdout). */
export async function startDashboardCli(env: NodeJS.ProcessEnv, args: string[] = []) {
  const child = spawnCli(['dashboard', '--port', '0', ...args], env);
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => { rl.close(); resolve(line.trim()); });
    void child.result.then((r) => reject(new Error(`dashboard exited: ${r.stderr}`)));
  });
  return { child, url };
}
