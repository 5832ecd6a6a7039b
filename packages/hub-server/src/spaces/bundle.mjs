// Bundles a node Space's app file into one ES module. Run by the hub as the Space's own uid
// (see builder.ts), so the build can only read what that uid may read.
// argv: <esbuild module url> <app folder> <entry file> <out file>
const [esbuildUrl, appDir, entry, outfile] = process.argv.slice(2);
const { build } = await import(esbuildUrl);
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
