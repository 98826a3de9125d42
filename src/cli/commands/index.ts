import type { Command } from 'commander';
import * as autopilot from './autopilot.js';
import * as dashboard from './dashboard.js';
import * as del from './delete.js';
import * as drain from './drain.js';
import * as dumpConfig from './dump-config.js';
import * as exportCmd from './export.js';
import * as init from './init.js';
import * as logs from './logs.js';
import * as passwd from './passwd.js';
import * as ping from './ping.js';
import * as push from './push.js';
import * as reset from './reset.js';
import * as run from './run.js';
import * as serve from './serve.js';
import * as show from './show.js';
import * as snakemakeCancel from './snakemake-cancel.js';
import * as snakemakeStatus from './snakemake-status.js';
import * as snakemakeSubmit from './snakemake-submit.js';
import * as status from './status.js';
import * as users from './users.js';
import * as views from './views.js';

/** Every `picas` subcommand, one file each; each registers itself on the program. Keep the list sorted. */
export const commands: ((program: Command) => void)[] = [
  autopilot.register,
  dashboard.register,
  del.register,
  drain.register,
  dumpConfig.register,
  exportCmd.register,
  init.register,
  logs.register,
  passwd.register,
  ping.register,
  push.register,
  reset.register,
  run.register,
  serve.register,
  show.register,
  snakemakeCancel.register,
  snakemakeStatus.register,
  snakemakeSubmit.register,
  status.register,
  users.register,
  views.register,
];
