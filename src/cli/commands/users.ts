import type { Command } from 'commander';
import { addConnectionOptions, openSession, type ConnectionFlags } from '../options.js';
import { action } from '../action.js';
import { UserError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { getUsers, parseNameList, setUsers, type UsersChange } from '../../maintenance/users.js';

interface UsersFlags extends ConnectionFlags {
  members?: string;
  memberRoles?: string;
  admins?: string;
  adminRoles?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('users')
    .description('show or set who may use the database (its _security members and admins, names and roles)')
    .option('--members <names>', 'member user names, comma separated ("" clears); members read and write tokens')
    .option('--member-roles <roles>', 'member roles, comma separated ("" clears)')
    .option('--admins <names>', 'database admin names ("" clears); admins also change views and users')
    .option('--admin-roles <roles>', 'database admin roles ("" clears)')
    .option('--json', 'print the security object as JSON')
    .addHelpText('after', `
Lists given replace the current ones; lists not given are kept. Without options: show them.
Examples:
  picas users
  picas users --members alice,bob --member-roles picas-users
  picas users --admins alice`);
  addConnectionOptions(cmd).action(action(async (flags: UsersFlags) => {
    const change: UsersChange = {};
    const list = (text: string | undefined) => (text === undefined ? undefined : parseNameList(text));
    if (flags.members !== undefined || flags.memberRoles !== undefined) change.members = { names: list(flags.members), roles: list(flags.memberRoles) };
    if (flags.admins !== undefined || flags.adminRoles !== undefined) change.admins = { names: list(flags.admins), roles: list(flags.adminRoles) };
    const session = await openSession(flags);
    const { db, out } = session;
    try {
      if (!(await db.exists())) throw new UserError(`database "${db.name}" does not exist on ${session.couch.url}`, EXIT.notFound);
      if (change.members || change.admins) {
        await setUsers(db, change);
        out.info(`updated the users of ${db.name}`);
      }
      const users = await getUsers(db);
      if (flags.json) {
        out.data(JSON.stringify(users));
      } else {
        const show = (l: string[]) => (l.length ? l.join(', ') : '-');
        out.data([
          `members: names ${show(users.members.names!)}; roles ${show(users.members.roles!)}`,
          `admins:  names ${show(users.admins.names!)}; roles ${show(users.admins.roles!)}`,
        ].join('\n'));
        if (!users.members.names!.length && !users.members.roles!.length) {
          out.info('(no members: on CouchDB 3 only server admins can use this database)');
        }
      }
      return EXIT.ok;
    } finally {
      await session.close();
    }
  }));
}
