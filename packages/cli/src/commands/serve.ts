import { serve } from "@hearth/hub-server";
import { type Command, parse } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "Run the Hearth hub server (API, git, LFS, web UI) on a data folder",
  help: `Usage: hearth serve [--port N] [--data DIR] [--host HOST] [--public-url URL] [--no-seed]

Starts the self-hosted hub and serves until interrupted (Ctrl-C / SIGTERM).
On first start (no users yet) it creates the admin user, writes its token to
<data>/admin-token (mode 0600) and seeds a demo model and dataset.

Options:
  --port N          TCP port (default: PORT or 8080; 0 picks a free one)
  --data DIR        data folder (default: HEARTH_HOME or ./.hearth)
  --host HOST       interface to listen on (default 127.0.0.1)
  --public-url URL  base URL clients see, when behind a proxy
  --no-seed         do not create the demo repos on first start

Example:
  hearth serve --port 8080 --data ./hub-data
  HF_ENDPOINT=http://127.0.0.1:8080 HF_TOKEN=$(cat ./hub-data/admin-token) hearth whoami`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      port: { type: "string" },
      data: { type: "string" },
      host: { type: "string" },
      "public-url": { type: "string" },
      "no-seed": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const portText = values.port ?? process.env.PORT;
    const port = portText === undefined ? 8080 : Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be an integer from 0 to 65535, got '${portText}'`);
    const hub = await serve({
      port,
      data: values.data ?? process.env.HEARTH_HOME ?? ".hearth",
      host: values.host,
      publicUrl: values["public-url"],
      seed: !values["no-seed"],
    });
    io.out(`Hearth hub listening on ${hub.url} (data: ${hub.dataDir})`);
    if (hub.admin.created)
      io.out(`Created admin user '${hub.admin.name}'; token written to ${hub.dataDir}/admin-token`);
    else io.out(`Admin user '${hub.admin.name}'; token in ${hub.dataDir}/admin-token`);
    io.out(`Use it: HF_ENDPOINT=${hub.url} HF_TOKEN=$(cat ${hub.dataDir}/admin-token) hearth whoami`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        done();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await hub.close();
    return EXIT.OK;
  },
};
