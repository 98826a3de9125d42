/** Exit codes of the `picas` command (documented in the README). A failed token is data, not an exit code. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  unreachable: 4,
  auth: 5,
  notFound: 6,
  interrupted: 130,
} as const;
