import type { Command } from 'commander';
import * as serve from './serve.js';

/** Every `picas` subcommand, one file each; each registers itself on the program. Keep the list sorted. */
export const commands: ((program: Command) => void)[] = [
  serve.register,
];
