#!/usr/bin/env node
// The `hearth` command. Hearth ships TypeScript sources (no build step): tsx loads them.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
