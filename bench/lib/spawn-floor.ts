// The floor of a pilot's cost per token: the CPU a fresh Node process spends to spawn `bash -c true` and
// await its exit, per spawn (the Node process's own CPU, not the shell's). Measured in a child node
// process that loads nothing else, one spawn at a time.
import { spawn } from 'node:child_process';

const SCRIPT = `
const { spawn } = require('node:child_process');
const n = Number(process.argv[1]);
const once = () => new Promise((resolve, reject) => { const c = spawn('bash', ['-c', 'true'], { stdio: 'ignore' }); c.once('error', reject); c.once('exit', resolve); });
(async () => {
  for (let i = 0; i < 20; i++) await once(); // warm up
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  const c = process.cpuUsage(c0);
  process.stdout.write(JSON.stringify({ cpuMs: (c.user + c.system) / 1000 / n, wallMs: (performance.now() - t0) / n }));
})();`;

export interface SpawnFloor { spawns: number; cpuMsPerSpawn: number; wallMsPerSpawn: number }

export async function measureSpawnFloor(spawns: number): Promise<SpawnFloor> {
  const child = spawn(process.execPath, ['-e', SCRIPT, String(spawns)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((r) => child.once('close', r));
  if (code !== 0) throw new Error(`spawn floor: the measuring process exited with ${code}`);
  const { cpuMs, wallMs } = JSON.parse(out) as { cpuMs: number; wallMs: number };
  return { spawns, cpuMsPerSpawn: Math.round(cpuMs * 1000) / 1000, wallMsPerSpawn: Math.round(wallMs * 1000) / 1000 };
}
