// Bundles a node Space's app file into one ES module. Run by the hub as the Space's own uid
// (see builder.ts), so the build can only read what that uid may read.
// argv: <esbuild module url> <app folder> <entry file> <out file>
const [esbuildUrl, appDir, entry, outfile] = process.argv.slice(2);
const { build } = await import(esbuildUrl);
const { realpathSync } = await import("node:fs");
const root = realpathSync(appDir);
// Packages that load a native addon as soon as they are imported. A Space may not load native
// addons (the permission model forbids them), so importing one would kill the app at start even
// when it never uses it (e.g. sharp, pulled in by @hearth/transformers for images only). The
// bundle gets a stand-in that loads the real package on first use, where it fails with the
// package's own error instead.
const LOAD_ON_FIRST_USE = ["sharp"];
const lazyModule = (name) => `import { createRequire } from "node:module";
const req = createRequire(import.meta.url);
let real;
const load = () => (real ??= req(${JSON.stringify(name)}));
export default new Proxy(function () {}, {
  apply: (_t, self, args) => Reflect.apply(load(), self, args),
  construct: (_t, args) => Reflect.construct(load(), args),
  get: (_t, key) => Reflect.get(load(), key),
});
`;
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
        name: "load-on-first-use",
        setup(b) {
          const filter = new RegExp(`^(${LOAD_ON_FIRST_USE.join("|")})$`);
          b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "load-on-first-use" }));
          b.onLoad({ filter: /.*/, namespace: "load-on-first-use" }, (args) => ({
            contents: lazyModule(args.path),
            loader: "js",
          }));
        },
      },
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
