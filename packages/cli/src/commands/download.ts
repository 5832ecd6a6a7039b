import { hfHubDownload, snapshotDownload } from "@hearth/hub";
import { asList, COMMON_OPTIONS, type Command, parse, repoTypeOf } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

export const downloadCommand: Command = {
  name: "download",
  summary: "Download files of a repo into the HF cache",
  help: `Usage: hearth download REPO_ID [FILE...] [options]

With FILEs, downloads those files and prints the path of each (one file) or of the snapshot
folder (several). Without FILEs, downloads the whole revision (filtered by --include and
--exclude, several files at once) and prints the snapshot folder. Files already in the cache
are not downloaded again; HF_HUB_OFFLINE=1 serves only from the cache.

Options:
  --repo-type TYPE      model (default), dataset or space
  --revision REV        branch, tag or commit (default main)
  --include PATTERN     only paths matching (repeatable; fnmatch, '*' crosses '/')
  --exclude PATTERN     skip paths matching (repeatable)
  --cache-dir DIR       cache folder (default $HF_HUB_CACHE or $HF_HOME/hub)
  --max-workers N       files at once (default 8)
  --force-download      download even if cached
  --quiet               no progress bar
  --token TOKEN         access token
  -h, --help            show this help

Example:
  hearth download org/model config.json
  hearth download org/model --include "*.safetensors" --include "*.json"`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...COMMON_OPTIONS,
      "repo-type": { type: "string" },
      revision: { type: "string" },
      include: { type: "string", multiple: true },
      exclude: { type: "string", multiple: true },
      "cache-dir": { type: "string" },
      "max-workers": { type: "string" },
      "force-download": { type: "boolean" },
      quiet: { type: "boolean" },
    });
    const [repo, ...files] = positionals;
    if (!repo) throw new UsageError("missing REPO_ID");
    const common = {
      repo,
      repoType: repoTypeOf(values["repo-type"]),
      revision: values.revision,
      cacheDir: values["cache-dir"],
      accessToken: values.token,
      forceDownload: values["force-download"],
      progressBar: values.quiet ? false : undefined,
    };
    if (files.length > 0 && (values.include || values.exclude)) {
      throw new UsageError("give either FILEs or --include/--exclude, not both");
    }
    if (files.length === 1) {
      io.out(await hfHubDownload({ ...common, path: files[0] }));
      return EXIT.OK;
    }
    const maxWorkers = values["max-workers"] ? Number(values["max-workers"]) : undefined;
    if (maxWorkers !== undefined && !(Number.isInteger(maxWorkers) && maxWorkers > 0)) {
      throw new UsageError(`--max-workers must be a positive integer, got '${values["max-workers"]}'`);
    }
    const dir = await snapshotDownload({
      ...common,
      allowPatterns: files.length > 0 ? files : asList(values.include),
      ignorePatterns: asList(values.exclude),
      maxWorkers,
    });
    io.out(dir);
    return EXIT.OK;
  },
};
