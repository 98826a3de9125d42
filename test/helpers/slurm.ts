/**
 * A real one-node Slurm cluster on loopback for the tests (issue 14): munged with a key of its own,
 * slurmctld and slurmd started in the foreground with a slurm.conf written into a temporary folder (state,
 * spool, logs and munge's socket there too; no systemd), and stopped afterwards with every job cancelled.
 *
 * `startSlurm()` resolves with the cluster, or with a reason to skip when Slurm is not installed or does
 * not come up; with PICAS_REQUIRE_SLURM=1 (set by .ci/run) a Slurm that cannot start throws instead.
 * Client commands (sbatch, squeue, scancel, scontrol) find the cluster through SLURM_CONF in `env`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export interface SlurmCluster {
  /** The temporary folder holding slurm.conf, state, spool and logs. */
  dir: string;
  /** Environment for client commands (SLURM_CONF set) on top of `base`. */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Run a Slurm client command to its end (bounded), e.g. `run('squeue', ['-h'])`. */
  run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string };
  /** `sbatch --parsable ...`: the job id (array job id for arrays); throws with sbatch's message on failure. */
  sbatch(args: string[], env?: NodeJS.ProcessEnv): string;
  /** Jobs still known to squeue (array tasks one a line), as `<id> <state>`. */
  queue(): { id: string; state: string }[];
  /** `scontrol show job` fields of one job (array task `<job>_<task>`), or undefined when Slurm forgot it. */
  jobInfo(id: string): Record<string, string> | undefined;
  /** Wait (bounded, polling squeue) until none of these jobs (or none at all) is queued or running. */
  waitGone(ids?: string[], timeoutMs?: number): Promise<void>;
  /** Cancel every job, stop the daemons, remove the folder. */
  stop(): Promise<void>;
  /** The daemons' logs, for assertion messages. */
  logs(): string;
}

/** CPUs the test node declares (more than the machine has: tests ask for several per pilot). */
export const SLURM_CPUS = 16;

const required = () => process.env.PICAS_REQUIRE_SLURM === '1';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function which(cmd: string): string | undefined {
  const r = spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Start the cluster. Resolves `{ cluster }` or `{ skip: reason }`; under PICAS_REQUIRE_SLURM=1 a missing
 * or failing Slurm rejects, so CI cannot pass by skipping.
 */
export async function startSlurm(): Promise<{ cluster: SlurmCluster; skip?: undefined } | { cluster?: undefined; skip: string }> {
  const missing = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'scontrol'].filter((c) => !which(c));
  if (missing.length) {
    const reason = `Slurm is not installed (missing ${missing.join(', ')}; Debian: apt-get install slurm-wlm munge)`;
    if (required()) throw new Error(`PICAS_REQUIRE_SLURM=1 but ${reason}`);
    return { skip: reason };
  }
  const dir = tempDir('slurm-cluster');
  // munged checks that every folder above its socket is searchable by all.
  chmodSync(dir, 0o755);
  for (const d of ['munge', 'state', 'spool', 'log']) mkdirSync(join(dir, d), { mode: 0o700 });
  writeFileSync(join(dir, 'munge/munge.key'), randomBytes(1024), { mode: 0o600 });
  const socket = join(dir, 'munge/munge.socket');
  const user = userInfo().username;
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, [
    `ClusterName=picastest`,
    `SlurmctldHost=${hostname()}(127.0.0.1)`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${slurmdPort}`,
    `SlurmUser=${user}`,
    `SlurmdUser=${user}`,
    `AuthType=auth/munge`,
    `CredType=cred/munge`,
    `AuthInfo=socket=${socket}`,
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log/slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log/slurmd.log')}`,
    // linuxproc tracks a job's processes by parentage: no cgroups needed, and a batch script's orphaned
    // children still belong to the job (they are signalled with it).
    `ProctrackType=proctrack/linuxproc`,
    `TaskPlugin=task/none`,
    `JobAcctGatherType=jobacct_gather/none`,
    `AccountingStorageType=accounting_storage/none`,
    `MpiDefault=none`,
    `SchedulerType=sched/backfill`,
    `SelectType=select/cons_tres`,
    `SelectTypeParameters=CR_CPU`,
    // The node declares more CPUs than this machine has; slurmd accepts the configured values.
    `SlurmdParameters=config_overrides`,
    `ReturnToService=2`,
    // Between the SIGTERM of a time limit or scancel and the SIGKILL: the pilots' --grace is shorter.
    `KillWait=15`,
    // Finished jobs stay visible to scontrol for the test's checks.
    `MinJobAge=600`,
    `SchedulerParameters=sched_interval=2`,
    `NodeName=picasnode NodeHostname=${hostname()} NodeAddr=127.0.0.1 CPUs=${SLURM_CPUS} RealMemory=8000 State=UNKNOWN`,
    `PartitionName=debug Nodes=picasnode Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n'));

  const daemons: ChildProcess[] = [];
  const output: Record<string, string> = {};
  const daemon = (name: string, cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLURM_CONF: conf } });
    output[name] = '';
    child.stdout!.on('data', (d) => { output[name] += d; });
    child.stderr!.on('data', (d) => { output[name] += d; });
    daemons.push(child);
    return child;
  };
  const env = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({ ...base, SLURM_CONF: conf });
  const run = (cmd: string, args: string[], e?: NodeJS.ProcessEnv) => {
    const r = spawnSync(cmd, args, { env: env(e), encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  };
  const logs = () => Object.entries(output).map(([k, v]) => `--- ${k}\n${v}`).join('\n') +
    ['slurmctld.log', 'slurmd.log'].map((f) => { try { return `\n--- ${f}\n${readFileSync(join(dir, 'log', f), 'utf8').slice(-4000)}`; } catch { return ''; } }).join('');

  const queue = () => {
    const r = run('squeue', ['--noheader', '--array', '--format=%i %T']);
    if (r.code !== 0) throw new Error(`squeue failed: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).map((l) => { const [id, state] = l.trim().split(/\s+/); return { id: id!, state: state! }; });
  };
  const inQueue = (ids?: string[]) => queue().filter((j) => !ids || ids.some((id) => j.id === id || j.id.startsWith(`${id}_`)));
  const waitGone = async (ids?: string[], timeoutMs = 180_000) => {
    const until = Date.now() + timeoutMs;
    while (inQueue(ids).length) {
      if (Date.now() > until) throw new Error(`jobs still queued after ${timeoutMs} ms: ${JSON.stringify(inQueue(ids))}\n${logs()}`);
      await sleep(500);
    }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Cancel every job and wait (bounded) until slurmd has reaped them, so no job process outlives the test.
    if (daemons.every((d) => d.exitCode === null)) {
      run('scancel', [`--user=${user}`]);
      await waitGone(undefined, 60_000).catch(() => {});
    }
    for (const d of [...daemons].reverse()) {
      if (d.exitCode === null && d.signalCode === null) {
        const gone = new Promise((r) => d.once('exit', r));
        d.kill('SIGTERM');
        await Promise.race([gone, sleep(10_000)]);
        if (d.exitCode === null && d.signalCode === null) { d.kill('SIGKILL'); await gone; }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that ends without its after() hook still takes the daemons with it.
  process.once('exit', () => { for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL'); });

  const fail = async (why: string) => {
    const reason = `Slurm could not start here: ${why}`;
    const detail = logs();
    await stop();
    if (required()) throw new Error(`PICAS_REQUIRE_SLURM=1 but ${reason}\n${detail}`);
    return { skip: reason } as const;
  };

  // munged refuses to run as root unless forced; -F keeps it in the foreground, a child of this process.
  daemon('munged', 'munged', ['-F', '--force', `--socket=${socket}`, `--key-file=${join(dir, 'munge/munge.key')}`,
    `--pid-file=${join(dir, 'munge/munged.pid')}`, `--seed-file=${join(dir, 'munge/munged.seed')}`, `--log-file=${join(dir, 'log/munged.log')}`]);
  for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100);
  if (!existsSync(socket)) return fail('munged did not create its socket');
  daemon('slurmctld', 'slurmctld', ['-D', '-i', '-f', conf]);
  daemon('slurmd', 'slurmd', ['-D', '-f', conf, '-N', 'picasnode']);

  // Up when the node is idle (slurmd registered with its CPUs); a second or two here.
  const until = Date.now() + 30_000;
  let last = '';
  for (;;) {
    if (daemons.some((d) => d.exitCode !== null)) return fail('a daemon exited');
    const r = run('sinfo', ['--noheader', '--format=%t %c']);
    last = r.stdout.trim() || r.stderr.trim();
    if (r.code === 0 && /^idle\s/.test(last)) break;
    if (Date.now() > until) return fail(`the node did not become idle (sinfo: ${last})`);
    await sleep(200);
  }

  const cluster: SlurmCluster = {
    dir, env, run, queue, waitGone, stop, logs,
    sbatch(args, e) {
      const r = run('sbatch', ['--parsable', ...args], e);
      if (r.code !== 0) throw new Error(`sbatch ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout.trim().split(';')[0]!;
    },
    jobInfo(id) {
      const r = run('scontrol', ['show', 'job', '--oneliner', id]);
      if (r.code !== 0) return undefined;
      const fields: Record<string, string> = {};
      for (const m of r.stdout.matchAll(/(\w[\w:/]*)=(\S*)/g)) fields[m[1]!] ??= m[2]!;
      return fields;
    },
  };
  return { cluster };
}
