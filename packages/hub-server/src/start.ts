/**
 * `npm start` / `hearth serve`: starts the hub on 127.0.0.1.
 * Flags: --port N (or PORT), --data DIR (or HEARTH_HOME), --host H, --no-seed.
 */
import { parseArgs } from "node:util";
import { serve } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    data: { type: "string" },
    host: { type: "string" },
    "no-seed": { type: "boolean" },
  },
  allowPositionals: false,
});
const hub = await serve({
  port: values.port ? Number(values.port) : undefined,
  data: values.data,
  host: values.host,
  seed: !values["no-seed"],
});
const lines = [
  `Hearth hub listening on ${hub.url}`,
  `  data:  ${hub.dataDir}`,
  `  user:  ${hub.admin.name}${hub.admin.created ? " (created now; demo repos seeded)" : ""}`,
  hub.admin.token
    ? `  token: ${hub.admin.token}   (also in ${hub.dataDir}/admin-token)`
    : `  token: see ${hub.dataDir}/admin-token`,
  `  try:   HF_ENDPOINT=${hub.url} HF_TOKEN=<token> ...   or open ${hub.url}/${hub.admin.name}/demo-model`,
];
console.log(lines.join("\n"));
const stop = () => void hub.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
