import type { Command } from 'commander';
import * as dumpConfig from './dump-config.js';
import * as init from './init.js';
import * as passwd from './passwd.js';
import * as ping from './ping.js';
import * as push from './push.js';
import * as run from './run.js';
import * as serve from './serve.js';
import * as show from './show.js';
import * as status from './status.js';
import * as views from './views.js';

/** Every `picas` subcommand, one file each; each registers itself on the program. Keep the list sorted. */
export const commands: ((program: Command) => void)[] = [
  dumpConfig.register,
  init.register,
  passwd.register,
  ping.register,
  push.register,
  run.register,
  serve.register,
  show.register,
  status.register,
  views.register,
];
