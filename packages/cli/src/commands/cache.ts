import { createInterface } from "node:readline/promises";
import { formatBytes, hubCacheDir, pruneCache, scanCacheDir } from "@hearth/hub";
import { type Command, type Io, parse, wantsHelp } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

const SCAN_HELP = `Usage: hearth cache scan [--dir DIR] [-v]

Lists the repos in the HF cache (shared with Python): id, type, size on disk, files, refs,
path. -v lists every revision instead.`;
const PRUNE_HELP = `Usage: hearth cache prune [--dir DIR] [--dry-run] [--yes]

Deletes detached revisions (snapshots no branch or tag points to) and the blobs only they
use. Asks for confirmation on a terminal; elsewhere --yes is required (exit 2 without it).`;

export const cacheCommand: Command = {
  name: "cache",
  summary: "Inspect (scan) or clean (prune) the HF cache",
  help: `Usage: hearth cache <scan|prune> [options]

${SCAN_HELP}

${PRUNE_HELP}`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (!sub || sub === "--help" || sub === "-h") {
      io.out(this.help);
      return sub ? EXIT.OK : EXIT.USAGE;
    }
    if (sub !== "scan" && sub !== "prune") throw new UsageError(`unknown cache subcommand '${sub}' (scan, prune)`);
    if (wantsHelp(rest)) {
      io.out(sub === "scan" ? SCAN_HELP : PRUNE_HELP);
      return EXIT.OK;
    }
    return sub === "scan" ? scan(rest, io) : prune(rest, io);
  },
};

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd(),
  );
}

async function scan(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { dir: { type: "string" }, verbose: { type: "boolean", short: "v" } });
  const info = scanCacheDir({ cacheDir: values.dir ?? hubCacheDir() });
  const repos = [...info.repos].sort((a, b) => a.repoPath.localeCompare(b.repoPath));
  if (values.verbose) {
    const rows = [["REPO ID", "REPO TYPE", "REVISION", "SIZE ON DISK", "NB FILES", "REFS", "LOCAL PATH"]];
    for (const r of repos) {
      for (const rev of r.revisions) {
        rows.push([
          r.repoId,
          r.repoType,
          rev.commitHash,
          formatBytes(rev.sizeOnDisk),
          String(rev.files.length),
          rev.refs.sort().join(", "),
          rev.snapshotPath,
        ]);
      }
    }
    for (const line of table(rows)) io.out(line);
  } else {
    const rows = [["REPO ID", "REPO TYPE", "SIZE ON DISK", "NB FILES", "REFS", "LOCAL PATH"]];
    for (const r of repos) {
      rows.push([
        r.repoId,
        r.repoType,
        formatBytes(r.sizeOnDisk),
        String(r.nbFiles),
        Object.keys(r.refs).sort().join(", "),
        r.repoPath,
      ]);
    }
    for (const line of table(rows)) io.out(line);
  }
  io.out(`\nScanned ${repos.length} repo(s) for a total of ${formatBytes(info.sizeOnDisk)}.`);
  for (const w of info.warnings) io.err(`warning: ${w}`);
  return EXIT.OK;
}

async function prune(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    dir: { type: "string" },
    "dry-run": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
  });
  const cacheDir = values.dir ?? hubCacheDir();
  const plan = pruneCache({ cacheDir, dryRun: true });
  if (plan.revisions.length === 0 && plan.blobs.length === 0) {
    io.out("Nothing to prune.");
    return EXIT.OK;
  }
  for (const r of plan.revisions) io.out(`detached: ${r.repoType} ${r.repoId} ${r.commitHash}`);
  io.out(
    `${plan.revisions.length} revision(s), ${plan.blobs.length} blob(s), ${formatBytes(plan.freedBytes)} to free.`,
  );
  if (values["dry-run"]) return EXIT.OK;
  if (!values.yes) {
    if (!io.isTTY) throw new UsageError("cache prune deletes files: pass --yes (or --dry-run) when not on a terminal");
    const rl = createInterface({ input: io.stdin, output: process.stderr });
    const answer = (await rl.question("Proceed? [y/N] ")).trim().toLowerCase();
    rl.close();
    if (answer !== "y" && answer !== "yes") {
      io.out("Cancelled.");
      return EXIT.OK;
    }
  }
  const done = pruneCache({ cacheDir });
  io.out(
    `Deleted ${done.revisions.length} revision(s) and ${done.blobs.length} blob(s), freed ${formatBytes(done.freedBytes)}.`,
  );
  return EXIT.OK;
}
