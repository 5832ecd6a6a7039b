import { statSync } from "node:fs";
import { basename } from "node:path";
import { createRepo, uploadFile, uploadFolder } from "@hearth/hub";
import { asList, COMMON_OPTIONS, type Command, parse, repoTypeOf } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

export const uploadCommand: Command = {
  name: "upload",
  summary: "Upload a file or a folder in one commit",
  help: `Usage: hearth upload REPO_ID [LOCAL_PATH] [PATH_IN_REPO] [options]

Uploads LOCAL_PATH (default '.') to the repo, creating the repo if it does not exist. A file
goes to PATH_IN_REPO (default its name); a folder goes under PATH_IN_REPO (default the root).
Small files are sent inline, large ones through LFS (multipart when the hub offers it);
unchanged files are skipped. Prints the commit URL.

Options:
  --repo-type TYPE          model (default), dataset or space
  --revision BRANCH         branch to commit to (default main)
  --include PATTERN         only upload matching paths (repeatable)
  --exclude PATTERN         skip matching paths (repeatable)
  --delete PATTERN          delete remote files matching, in the same commit (repeatable)
  --commit-message TEXT     commit title
  --commit-description TEXT commit description
  --parent-commit SHA       fail (exit 7) unless the branch head is SHA
  --private                 create the repo private if it does not exist
  --quiet                   no progress bar
  --token TOKEN             access token
  -h, --help                show this help

Example:
  hearth upload me/my-model ./out . --exclude "*.tmp"`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...COMMON_OPTIONS,
      "repo-type": { type: "string" },
      revision: { type: "string" },
      include: { type: "string", multiple: true },
      exclude: { type: "string", multiple: true },
      delete: { type: "string", multiple: true },
      "commit-message": { type: "string" },
      "commit-description": { type: "string" },
      "parent-commit": { type: "string" },
      private: { type: "boolean" },
      quiet: { type: "boolean" },
    });
    const [repo, localPath = ".", pathInRepo] = positionals;
    if (!repo) throw new UsageError("missing REPO_ID");
    if (positionals.length > 3) throw new UsageError(`too many arguments: ${positionals.slice(3).join(" ")}`);
    const repoType = repoTypeOf(values["repo-type"]);
    let isDir: boolean;
    try {
      isDir = statSync(localPath).isDirectory();
    } catch {
      throw new UsageError(`LOCAL_PATH '${localPath}' does not exist`);
    }
    await createRepo({
      repo,
      repoType,
      private: values.private,
      existOk: true,
      accessToken: values.token,
      spaceSdk: "static",
    });
    const common = {
      repo,
      repoType,
      revision: values.revision,
      accessToken: values.token,
      title: values["commit-message"],
      description: values["commit-description"],
      parentCommit: values["parent-commit"],
      progressBar: values.quiet ? false : undefined,
    };
    let res: { commitUrl: string };
    if (isDir) {
      res = await uploadFolder({
        ...common,
        folderPath: localPath,
        pathInRepo: pathInRepo === "." ? undefined : pathInRepo,
        allowPatterns: asList(values.include),
        ignorePatterns: asList(values.exclude),
        deletePatterns: asList(values.delete),
      });
    } else {
      if (values.include || values.exclude || values.delete) {
        throw new UsageError("--include/--exclude/--delete apply to folders only");
      }
      res = await uploadFile({ ...common, file: localPath, pathInRepo: pathInRepo ?? basename(localPath) });
    }
    io.out(res.commitUrl);
    return EXIT.OK;
  },
};
