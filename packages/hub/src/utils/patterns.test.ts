import assert from "node:assert/strict";
import { test } from "node:test";
import { filterPaths, matchesPattern } from "./patterns.ts";

test("fnmatch semantics as huggingface_hub's filter_repo_objects", () => {
  assert.ok(matchesPattern("model.safetensors", "*.safetensors"));
  assert.ok(matchesPattern("sub/dir/model.safetensors", "*.safetensors"), "'*' crosses '/' in fnmatch");
  assert.ok(matchesPattern("logs/a/b.txt", "logs/"), "a trailing '/' means everything below");
  assert.ok(!matchesPattern("logsx/a.txt", "logs/"));
  assert.ok(matchesPattern("a1.bin", "a?.bin"));
  assert.ok(matchesPattern("b.json", "[ab].json") && !matchesPattern("c.json", "[ab].json"));
  assert.ok(matchesPattern("c.json", "[!ab].json"));
  assert.ok(matchesPattern("a+b(1).txt", "a+b(1).txt"), "regex metacharacters are literal");
  const files = ["config.json", "model.safetensors", "logs/x.txt", "notes.tmp"];
  assert.deepEqual(
    filterPaths(files, { allowPatterns: ["*.json", "*.safetensors", "logs/"], ignorePatterns: "*.txt" }),
    ["config.json", "model.safetensors"],
  );
  assert.deepEqual(filterPaths(files, {}), files);
});
