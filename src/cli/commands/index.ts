import type { Command } from 'commander';

/** Every `picas` subcommand, one file each; each registers itself on the program. Keep the list sorted. */
export const commands: ((program: Command) => void)[] = [
];
