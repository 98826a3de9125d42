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

/**
 * The server refused a user access to its own `_users` document (403). CouchDB 3 creates `_users` readable
 * by server admins only, so `picas passwd` cannot work for other users unless an admin opened it.
 */
export class UsersDbForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsersDbForbiddenError';
  }
}
