/**
 * A configuration problem the user must fix (a malformed conf.yml, a missing or wrong key.dat, an unreadable
 * password file). The message is one line: what failed, where, what to do. The CLI maps it to exit code 3.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
