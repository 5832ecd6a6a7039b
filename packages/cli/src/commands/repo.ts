import { createRepo, deleteRepo, repoInfo } from "@hearth/hub";
import { COMMON_OPTIONS, type Command, type Io, parse, repoTypeOf, wantsHelp } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

const SUB_HELP = {
  create: `Usage: hearth repo create REPO_ID [--repo-type TYPE] [--private] [--exist-ok] [--space-sdk SDK]

Creates a repo and prints its URL. Exits 7 if it exists, unless --exist-ok.`,
  delete: `Usage: hearth repo delete REPO_ID [--repo-type TYPE] [--missing-ok]

Deletes a repo (irreversible). Exits 3 if it does not exist, unless --missing-ok.`,
  info: `Usage: hearth repo info REPO_ID [--repo-type TYPE] [--revision REV] [--json]

Prints id, type, commit (sha), visibility and files; --json prints the hub's answer.`,
};

export const repoCommand: Command = {
  name: "repo",
  summary: "Create, delete or inspect a repo",
  help: `Usage: hearth repo <create|delete|info> REPO_ID [options]

${SUB_HELP.create}

${SUB_HELP.delete}

${SUB_HELP.info}

Common options:
  --repo-type TYPE   model (default), dataset or space
  --token TOKEN      access token
  -h, --help         show this help`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (!sub || sub === "--help" || sub === "-h") {
      io.out(this.help);
      return sub ? EXIT.OK : EXIT.USAGE;
    }
    if (!(sub in SUB_HELP)) throw new UsageError(`unknown repo subcommand '${sub}' (create, delete, info)`);
    if (wantsHelp(rest)) {
      io.out(SUB_HELP[sub as keyof typeof SUB_HELP]);
      return EXIT.OK;
    }
    return runSub(sub as keyof typeof SUB_HELP, rest, io);
  },
};

async function runSub(sub: keyof typeof SUB_HELP, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON_OPTIONS,
    "repo-type": { type: "string" },
    private: { type: "boolean" },
    "exist-ok": { type: "boolean" },
    "missing-ok": { type: "boolean" },
    "space-sdk": { type: "string" },
    revision: { type: "string" },
    json: { type: "boolean" },
  });
  const [repo] = positionals;
  if (!repo || positionals.length > 1) throw new UsageError(`repo ${sub}: expected exactly one REPO_ID`);
  const common = { repo, repoType: repoTypeOf(values["repo-type"]), accessToken: values.token };
  if (sub === "create") {
    const { url } = await createRepo({
      ...common,
      private: values.private,
      existOk: values["exist-ok"],
      spaceSdk: values["space-sdk"],
    });
    io.out(url);
  } else if (sub === "delete") {
    await deleteRepo({ ...common, missingOk: values["missing-ok"] });
    io.out(`Deleted ${repo}`);
  } else {
    const info = await repoInfo({ ...common, revision: values.revision });
    if (values.json) io.out(JSON.stringify(info.raw, null, 2));
    else {
      io.out(`id: ${info.id}`);
      io.out(`type: ${info.type}`);
      io.out(`sha: ${info.sha ?? "?"}`);
      io.out(`private: ${info.private ?? false}`);
      if (info.lastModified) io.out(`lastModified: ${info.lastModified}`);
      io.out(`files: ${(info.siblings ?? []).map((s) => s.rfilename).join(", ")}`);
    }
  }
  return EXIT.OK;
}
