import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Podman for the container tests: an image built here from a tiny root filesystem (bash, sleep and a few
 * tools copied from this machine with their libraries; no registry, nothing pulled), run with
 * `--pull=never --network=none`.
 *
 * Some machines (this project's among them) run inside a container themselves, where podman's defaults
 * fail before anything starts: it raises the container's open-files and process limits above the
 * current hard limits, which needs CAP_SYS_RESOURCE ("setrlimit RLIMIT_NOFILE: Operation not permitted"),
 * and crun refuses a cgroup v1 + v2 hybrid ("cgroups in hybrid mode not supported"). The probe tries the
 * defaults first, then a containers.conf (CONTAINERS_CONF) that keeps the limits within the current ones,
 * then that with runc as the runtime; it uses the first that runs, and says why none did otherwise.
 */
export interface Podman {
  image: string;
  /** Environment for processes that run podman (CONTAINERS_CONF when the defaults did not work). */
  env: NodeJS.ProcessEnv;
  /** What was needed beyond the defaults, for the test log. */
  setup: string;
  remove(): void;
}

const TOOLS = ['bash', 'sleep', 'cat', 'ls', 'env', 'id', 'touch', 'echo'];

function libsOf(binary: string): string[] {
  const out = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout ?? '';
  return [...out.matchAll(/(\/[^\s)]+)/g)].map((m) => m[1]!).filter((p) => existsSync(p));
}

function buildRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  for (const tool of TOOLS) {
    const path = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (!path.startsWith('/')) continue;
    copyFileSync(path, join(dir, 'bin', tool));
    for (const lib of libsOf(path)) {
      mkdirSync(join(dir, dirname(lib)), { recursive: true });
      if (!existsSync(join(dir, lib))) copyFileSync(lib, join(dir, lib));
    }
  }
  symlinkSync('bash', join(dir, 'bin', 'sh'));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/tmp:/bin/bash\n');
}

/** Podman ready to run the tiny image, or the reason it cannot run here. */
export function preparePodman(): Podman | string {
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (Debian package podman; .ci/run installs it)';
  const work = mkdtempSync(join(tmpdir(), 'picas-podman-'));
  const image = `localhost/picas-test-tiny:${randomBytes(4).toString('hex')}`;
  try {
    const rootfs = join(work, 'rootfs');
    buildRootfs(rootfs);
    execFileSync('tar', ['-C', rootfs, '-cf', join(work, 'rootfs.tar'), '.']);
    const imported = spawnSync('podman', ['import', join(work, 'rootfs.tar'), image], { encoding: 'utf8' });
    if (imported.status !== 0) return `podman import failed: ${imported.stderr.trim()}`;
  } finally {
    rmSync(join(work, 'rootfs'), { recursive: true, force: true });
    rmSync(join(work, 'rootfs.tar'), { force: true });
  }
  const remove = () => { spawnSync('podman', ['rmi', '-f', image]); rmSync(work, { recursive: true, force: true }); };
  const conf = join(work, 'containers.conf');
  const limits = '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n';
  const attempts: { setup: string; conf?: string }[] = [
    { setup: 'podman defaults' },
    { setup: 'containers.conf: open-files and process limits within the current ones (no CAP_SYS_RESOURCE here)', conf: limits },
    { setup: 'containers.conf: limits within the current ones, and runc (crun refuses this machine\'s hybrid cgroups)', conf: `${limits}[engine]\nruntime = "runc"\n` },
  ];
  const failures: string[] = [];
  for (const a of attempts) {
    if (a.conf) writeFileSync(conf, a.conf);
    const env = a.conf ? { ...process.env, CONTAINERS_CONF: conf } : { ...process.env };
    const r = spawnSync('podman', ['run', '--rm', '--pull=never', '--network=none', image, 'bash', '-c', 'echo ok'], { env, encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0 && r.stdout.trim() === 'ok') return { image, env: a.conf ? { CONTAINERS_CONF: conf } : {}, setup: a.setup, remove };
    failures.push(`${a.setup}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  }
  remove();
  return `podman cannot run a container here: ${failures.join('; ')}`;
}

/** Host process ids of live processes whose environment holds `NAME=value`. */
export function pidsWithEnv(entry: string): number[] {
  const out = spawnSync('bash', ['-c', `for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx ${JSON.stringify(entry)} && echo \${p#/proc/}; done; true`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}
