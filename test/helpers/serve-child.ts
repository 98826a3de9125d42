// A real embedded server in its own process, for tests: prints one JSON line with its URL, then serves
// until killed. Arguments: dataDir username password [host]
import { startEmbeddedServer } from '../../src/server/embedded.js';

const [dataDir, username, password, host] = process.argv.slice(2);
const server = await startEmbeddedServer({
  dataDir: dataDir!, port: 0, host: host ?? '127.0.0.1', admin: { username: username!, password: password! },
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { void server.close().then(() => process.exit(0)); });
