/**
 * `hearth`: the command line of the Hearth stack. Dispatches to one Command per file in
 * `commands/`; every failure maps to an exit status from `exit-codes.ts`.
 */
import { isHubError } from "@hearth/hub";
import type { Command, Io } from "./command.ts";
import { orgCommand, tokenCommand, userCommand } from "./commands/admin.ts";
import { loginCommand, logoutCommand, whoamiCommand } from "./commands/auth.ts";
import { cacheCommand } from "./commands/cache.ts";
import { downloadCommand } from "./commands/download.ts";
import { envCommand } from "./commands/env.ts";
import { launchCommand } from "./commands/launch.ts";
import { repoCommand } from "./commands/repo.ts";
import { serveCommand } from "./commands/serve.ts";
import { uploadCommand } from "./commands/upload.ts";
import { EXIT, exitCodeFor, UsageError } from "./exit-codes.ts";
import { VERSION } from "./version.ts";

export const COMMANDS: Command[] = [
  loginCommand,
  logoutCommand,
  whoamiCommand,
  downloadCommand,
  uploadCommand,
  repoCommand,
  cacheCommand,
  envCommand,
  launchCommand,
  serveCommand,
  userCommand,
  tokenCommand,
  orgCommand,
];

/** Commands that handle `--help` themselves: per subcommand, or (launch) passed on to the script. */
const SUBCOMMANDS = new Set(["repo", "cache", "user", "token", "org", "launch"]);

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: hearth <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'hearth <command> --help' for a command's options.

Environment: HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE,
HF_HUB_DISABLE_PROGRESS_BARS (as in huggingface_hub).

Exit status:
  0  success
  1  other error
  2  bad command line (unknown command or option, missing argument)
  3  repo, revision, file or cache folder not found
  4  not logged in, or the hub refused the token (401, 403, gated repo)
  5  hub unreachable, or offline mode and the file is not cached
  6  downloaded bytes failed the size or sha256 check
  7  already exists (409), or the branch moved (412)`;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const target = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(target ? target.help : mainHelp());
    return name ? EXIT.OK : EXIT.USAGE;
  }
  if (name === "--version" || name === "-V") {
    io.out(VERSION);
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`hearth: unknown command '${name}'\n\n${mainHelp()}`);
    return EXIT.USAGE;
  }
  if ((rest.includes("--help") || rest.includes("-h")) && !SUBCOMMANDS.has(command.name)) {
    io.out(command.help);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const code = exitCodeFor(err);
    if (err instanceof UsageError) io.err(`hearth ${name}: ${err.message}\nRun 'hearth ${name} --help' for usage.`);
    else if (isHubError(err)) io.err(`hearth ${name}: ${err.message} [${err.code}]`);
    else io.err(`hearth ${name}: ${(err as Error)?.stack ?? String(err)}`);
    return code;
  }
}

function defaultIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stdin: process.stdin,
    isTTY: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  };
}
