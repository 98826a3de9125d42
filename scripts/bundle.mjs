#!/usr/bin/env node
// `npm run bundle`: picas's pilot-side CLI as files that need nothing installed beside them.
//
//   dist/picas.mjs  one ES module file, run with any `node` >= 20 (`node picas.mjs run`);
//   dist/picas      a Node single-executable application: the same program inside a copy of the node
//                   binary that runs this script, so it needs no Node at all (what the Grid sandbox carries).
//
// Both leave out `picas serve`, `picas dashboard` and `picas autopilot` (they run on a login node, from the
// npm package; serve would pull in the embedded server's database engine, autopilot finds the Slurm script
// beside the package): in their place a hidden command says so.
// The version is written in at build time, since no package.json lies beside a lone file.
// `--mjs-only` skips the executable (it copies and rewrites a ~100 MB binary).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--out-dir <dir>`: build elsewhere than dist/ (the tests build into a temporary folder).
const outIndex = process.argv.indexOf('--out-dir');
const DIST = outIndex > 0 && process.argv[outIndex + 1] ? resolve(process.argv[outIndex + 1]) : join(ROOT, 'dist');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const mjsOnly = process.argv.includes('--mjs-only');

/** Commands that are not part of a lone-file build, replaced by a hidden stub that says where they are. */
const LEFT_OUT = ['serve', 'dashboard', 'autopilot'];
const leaveOut = {
  name: 'picas-leave-out-login-node-commands',
  setup(b) {
    const filter = new RegExp(`^\\./(${LEFT_OUT.join('|')})\\.js$`);
    b.onResolve({ filter }, (args) => {
      if (!args.importer.endsWith(join('src', 'cli', 'commands', 'index.ts'))) return undefined;
      return { path: args.path.slice(2, -3), namespace: 'picas-left-out' };
    });
    b.onLoad({ filter: /.*/, namespace: 'picas-left-out' }, (args) => ({
      loader: 'js',
      contents: `
        export function register(program) {
          program.command(${JSON.stringify(args.path)}, { hidden: true })
            .allowUnknownOption().allowExcessArguments()
            .action(() => {
              process.stderr.write('picas: \`picas ${args.path}\` is not part of this single-file build (it runs on a login node): install the picas npm package there\\n');
              process.exitCode = 2;
            });
        }`,
    }));
  },
};

const common = {
  entryPoints: [join(ROOT, 'src/cli/main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { PICAS_BUNDLED_VERSION: JSON.stringify(version) },
  plugins: [leaveOut],
  legalComments: 'none',
  logLevel: 'warning',
};

mkdirSync(DIST, { recursive: true });

// The ES module: CommonJS dependencies (commander) call require(), which an ES module lacks; give it one.
const mjs = join(DIST, 'picas.mjs');
await build({
  ...common,
  format: 'esm',
  outfile: mjs,
  banner: { js: "import { createRequire as __picasCreateRequire } from 'node:module';\nconst require = __picasCreateRequire(import.meta.url);" },
});
chmodSync(mjs, 0o755);
console.log(`${mjs}: ${(statSync(mjs).size / 1e6).toFixed(2)} MB`);

if (!mjsOnly) {
  // The executable: Node's single-executable applications run one CommonJS script, stored as a blob in a
  // copy of the node binary (the blob is made by `node --experimental-sea-config`, injected by postject
  // into the section Node looks for, and the fuse flipped so Node runs it instead of its own CLI).
  const work = mkdtempSync(join(tmpdir(), 'picas-sea-'));
  try {
    const cjs = join(work, 'picas.cjs');
    // import.meta is empty in CommonJS: main.ts's package.json branch is dead here (the version is defined).
    await build({ ...common, format: 'cjs', outfile: cjs, minifySyntax: true, logOverride: { 'empty-import-meta': 'silent' } });
    const blob = join(work, 'picas.blob');
    const config = join(work, 'sea-config.json');
    writeFileSync(config, JSON.stringify({ main: cjs, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
    execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exe = join(DIST, 'picas');
    rmSync(exe, { force: true });
    copyFileSync(process.execPath, exe);
    chmodSync(exe, 0o755);
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: ['ignore', 'ignore', 'pipe'] }); // its warnings about ELF note sections are noise; a failure throws with them
    console.log(`${exe}: ${(statSync(exe).size / 1e6).toFixed(1)} MB (node ${process.version}, ${process.platform}-${process.arch})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
