/**
 * Operator commands on a hub's data folder: `hearth user`, `hearth token`, `hearth org`.
 * They open the folder in-process (the same SQLite file a running `hearth serve` uses; WAL mode
 * lets both work at once) and reuse the hub server's own functions, so names are validated and
 * tokens hashed exactly as the API and UI do.
 */
import { resolve } from "node:path";
import { buildApp, checkNamespace, createUser, HubServerError, issueToken } from "@hearth/hub-server";
import { type Command, type Io, parse, wantsHelp } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

type FastifyInstance = Awaited<ReturnType<typeof buildApp>>;

const DATA_HELP = `  --data DIR   the hub's data folder (default: HEARTH_HOME or ./.hearth)`;

type Sub = { usage: string; run(argv: string[], io: Io, app: () => Promise<FastifyInstance>): Promise<number> };

function dataDir(argv: string[]): string {
  const i = argv.indexOf("--data");
  const given = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith("--data="))?.slice("--data=".length);
  return resolve(given ?? process.env.HEARTH_HOME ?? ".hearth");
}

function roleOf(v: string | undefined): "read" | "write" {
  if (v === undefined) return "write";
  if (v === "read" || v === "write") return v;
  throw new UsageError(`--role must be read or write, got '${v}'`);
}

async function userNamed(app: FastifyInstance, name: string | undefined) {
  const user = await app.hub.db.getUserByName(name ?? process.env.HEARTH_ADMIN_USER ?? "admin");
  if (!user) throw new HubServerError("HEARTH_HUBSERVER_NOT_FOUND", `no user '${name ?? "admin"}' in this hub`);
  return user;
}

/** Builds a `hearth <name> <sub>` command that opens the data folder once per run. */
function adminCommand(name: string, summary: string, subs: Record<string, Sub>): Command {
  const list = Object.keys(subs).join("|");
  return {
    name,
    summary,
    help: `Usage: hearth ${name} <${list}> [options]

${Object.values(subs)
  .map((s) => s.usage)
  .join("\n\n")}

Common options:
${DATA_HELP}
  -h, --help   show this help

Works on the data folder directly (also while 'hearth serve' runs on it).`,
    async run(argv, io) {
      const [sub, ...rest] = argv;
      if (!sub || sub === "--help" || sub === "-h") {
        io.out(this.help);
        return sub ? EXIT.OK : EXIT.USAGE;
      }
      const s = subs[sub];
      if (!s) throw new UsageError(`unknown ${name} subcommand '${sub}' (${list.replaceAll("|", ", ")})`);
      if (wantsHelp(rest)) {
        io.out(`${s.usage}\n\nOptions:\n${DATA_HELP}`);
        return EXIT.OK;
      }
      let app: FastifyInstance | undefined;
      const open = async () => {
        app ??= await buildApp({ dataDir: dataDir(rest), spaces: false });
        return app;
      };
      try {
        return await s.run(rest, io, open);
      } catch (err) {
        if (!(err instanceof HubServerError)) throw err;
        io.err(`hearth ${name} ${sub}: ${err.message} [${err.code}]`);
        if (err.status === 409) return EXIT.CONFLICT;
        if (err.status === 404) return EXIT.NOT_FOUND;
        if (err.status === 400) return EXIT.USAGE;
        return EXIT.ERROR;
      } finally {
        await app?.close();
      }
    },
  };
}

export const userCommand = adminCommand("user", "Create or list the users of a hub (data folder)", {
  create: {
    usage: `hearth user create NAME [--admin] [--email EMAIL] [--password PW] [--role read|write] [--json]
  Creates a user with one access token (role write by default) and prints the token once.
  Exits 7 if the name is taken by a user or an organisation.`,
    async run(argv, io, open) {
      const { values, positionals } = parse(argv, {
        data: { type: "string" },
        admin: { type: "boolean" },
        email: { type: "string" },
        password: { type: "string" },
        role: { type: "string" },
        json: { type: "boolean" },
      });
      if (positionals.length !== 1) throw new UsageError("expected exactly one NAME");
      const role = roleOf(values.role);
      if (values.password !== undefined && values.password.length < 8)
        throw new UsageError("--password must have at least 8 characters");
      const { user, token } = await createUser(await open(), {
        name: positionals[0] as string,
        isAdmin: values.admin,
        email: values.email,
        password: values.password,
        role,
      });
      if (values.json) io.out(JSON.stringify({ name: user.name, id: user.id, isAdmin: user.isAdmin, role, token }));
      else io.out(`Created user '${user.name}'${user.isAdmin ? " (admin)" : ""}; ${role} token: ${token}`);
      return EXIT.OK;
    },
  },
  list: {
    usage: `hearth user list [--json]
  Lists users: name, admin flag, e-mail, creation date.`,
    async run(argv, io, open) {
      const { values, positionals } = parse(argv, { data: { type: "string" }, json: { type: "boolean" } });
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const users = await (await open()).hub.db.listUsers();
      const rows = users.map((u) => ({ name: u.name, isAdmin: u.isAdmin, email: u.email, createdAt: u.createdAt }));
      if (values.json) io.out(JSON.stringify(rows));
      else
        for (const r of rows) io.out(`${r.name}\t${r.isAdmin ? "admin" : "user"}\t${r.email ?? "-"}\t${r.createdAt}`);
      return EXIT.OK;
    },
  },
});

export const tokenCommand = adminCommand("token", "Create, list or revoke a user's access tokens (data folder)", {
  create: {
    usage: `hearth token create NAME [--user USER] [--role read|write] [--json]
  Mints a token named NAME for USER (default: the admin) and prints it once. Role: write
  (default) may push and create repos; read may only download.`,
    async run(argv, io, open) {
      const { values, positionals } = parse(argv, {
        data: { type: "string" },
        user: { type: "string" },
        role: { type: "string" },
        json: { type: "boolean" },
      });
      if (positionals.length !== 1) throw new UsageError("expected exactly one token NAME");
      const role = roleOf(values.role);
      const name = positionals[0] as string;
      if (name.length > 100) throw new UsageError("token NAME must be at most 100 characters");
      const app = await open();
      const user = await userNamed(app, values.user);
      const { token, row } = await issueToken(app, user.id, name, role);
      if (values.json) io.out(JSON.stringify({ id: row.id, name: row.name, role: row.role, user: user.name, token }));
      else io.out(`Created ${role} token '${row.name}' (id ${row.id}) for '${user.name}': ${token}`);
      return EXIT.OK;
    },
  },
  list: {
    usage: `hearth token list [--user USER] [--json]
  Lists USER's tokens (id, name, role, created, last used); never the secrets.`,
    async run(argv, io, open) {
      const { values, positionals } = parse(argv, {
        data: { type: "string" },
        user: { type: "string" },
        json: { type: "boolean" },
      });
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const app = await open();
      const user = await userNamed(app, values.user);
      const rows = (await app.hub.db.listTokens(user.id)).map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        createdAt: t.createdAt,
        lastUsedAt: t.lastUsedAt,
      }));
      if (values.json) io.out(JSON.stringify(rows));
      else
        for (const r of rows) io.out(`${r.id}\t${r.name}\t${r.role}\t${r.createdAt}\t${r.lastUsedAt ?? "never used"}`);
      return EXIT.OK;
    },
  },
  revoke: {
    usage: `hearth token revoke ID [--user USER]
  Deletes USER's token with that id (see 'token list'); it stops working at once. Exits 3 if
  there is no such token.`,
    async run(argv, io, open) {
      const { values, positionals } = parse(argv, { data: { type: "string" }, user: { type: "string" } });
      if (positionals.length !== 1) throw new UsageError("expected exactly one token ID");
      const app = await open();
      const user = await userNamed(app, values.user);
      if (!(await app.hub.db.deleteToken(user.id, positionals[0] as string)))
        throw new HubServerError("HEARTH_HUBSERVER_NOT_FOUND", `no token '${positionals[0]}' of user '${user.name}'`);
      io.out(`Revoked token ${positionals[0]} of '${user.name}'`);
      return EXIT.OK;
    },
  },
});

export const orgCommand = adminCommand("org", "Create an organisation on a hub (data folder)", {
  create: {
    usage: `hearth org create NAME [--owner USER] [--fullname TEXT]
  Creates an organisation whose first admin member is USER (default: the admin).
  Exits 7 if the name is taken by a user or an organisation.`,
    async run(argv, io, open) {
      const { values, positionals } = parse(argv, {
        data: { type: "string" },
        owner: { type: "string" },
        fullname: { type: "string" },
      });
      if (positionals.length !== 1) throw new UsageError("expected exactly one organisation NAME");
      const app = await open();
      const owner = await userNamed(app, values.owner);
      const org = await app.hub.db.createOrg({
        name: checkNamespace("hearth org create: NAME", positionals[0]),
        fullname: values.fullname,
        creatorId: owner.id,
      });
      io.out(`Created organisation '${org.name}' with '${owner.name}' as admin`);
      return EXIT.OK;
    },
  },
});
