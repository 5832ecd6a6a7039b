import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, ProgressBar } from "./progress.ts";

test("the progress bar aggregates files, redraws one line and ends with a newline", () => {
  let out = "";
  const write = (s: string) => {
    out += s;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WriteStream;
  const bar = new ProgressBar("org/m", stream);
  bar.listener({ path: "a", loaded: 0, total: 1000 });
  bar.listener({ path: "b", loaded: 3000, total: 3000 });
  bar.listener({ path: "a", loaded: 1000, total: 1000 });
  bar.done();
  const frames = out.split("\r").filter(Boolean);
  assert.match(frames[0], /^org\/m \[\.{30}\] 0% 0 B\/1\.0 kB/);
  assert.match(frames[1], /^org\/m \[#{23}\.{7}\] 75% 3\.0 kB\/4\.0 kB/, "a finished file redraws at once");
  assert.match(frames.at(-1) ?? "", /\[#{30}\] 100% 4\.0 kB\/4\.0 kB .*\n$/);
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1_500_000_000), "1.5 GB");
});

test("no bar unless asked or on a TTY", () => {
  assert.equal(ProgressBar.maybe("x", false), undefined);
  assert.ok(ProgressBar.maybe("x", true) instanceof ProgressBar);
});
