// Bundles a node Space's app file into one ES module. Run by the hub as the Space's own uid
// (see builder.ts), so the build can only read what that uid may read.
// argv: <esbuild module url> <app folder> <entry file> <out file>
const [esbuildUrl, appDir, entry, outfile] = process.argv.slice(2);
const { build } = await import(esbuildUrl);
const { realpathSync } = await import("node:fs");
const root = realpathSync(appDir);
try {
  const result = await build({
    absWorkingDir: appDir,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    // native addons are not loaded in a Space (the permission model forbids them)
    external: ["*.node"],
    // the app folder is self-contained (its dependencies were copied in): nothing outside it is read
    plugins: [
      {
        name: "stay-in-app-folder",
        setup(b) {
          b.onLoad({ filter: /.*/ }, (args) => {
            const inside = args.path === root || args.path.startsWith(`${root}/`);
            if (args.namespace === "file" && !inside)
              return { errors: [{ text: `refusing to read ${args.path}: outside the app folder` }] };
            return undefined;
          });
        },
      },
    ],
    banner: {
      js: "import { createRequire as __hearthCreateRequire } from 'node:module'; const require = __hearthCreateRequire(import.meta.url);",
    },
  });
  for (const w of result.warnings) console.log(`warning: ${w.text}`);
  console.log(`bundled ${entry} -> ${outfile}`);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
