/**
 * Spaces end to end, the happy path: real `git push` (git-lfs for the weights) to the in-process
 * hub, a static Space and a node Space built with @hearth/spaces around a
 * `pipeline("text-classification", ...)` over the hf-tiny BERT checkpoint; /api/predict checked
 * against the same pipeline run here, the demo form driven by headless Chromium, redeploy on push.
 * The sandbox, secrets and failures are in spaces-sandbox.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setBackend } from "@hearth/tensor";
import { pipeline } from "@hearth/transformers";
import type { RuntimeInfo } from "../src/spaces/manager.ts";
import { Browser, chromiumPath } from "./cdp.ts";
import { lfsSkip, SpacesEnv, spacesDir, tinyBert, until } from "./spaces-env.ts";

/** Scores of every label, as the Space's fn returns them. */
async function scoresHere(modelDir: string, text: string): Promise<Record<string, number>> {
  setBackend("js"); // the backend the hub gives a Space
  const classify = await pipeline("text-classification", modelDir);
  const all = (await classify.call(text, { topK: null })) as Array<{ label: string; score: number }>;
  return Object.fromEntries(all.map((r) => [r.label, r.score]));
}

function assertScoresClose(got: Record<string, number>, want: Record<string, number>): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [k, v] of Object.entries(want))
    assert.ok(Math.abs((got[k] as number) - v) < 1e-6, `${k}: ${got[k]} from the Space vs ${v} here`);
}

describe("Spaces", { skip: lfsSkip }, () => {
  const env = new SpacesEnv();
  const weights: Array<[string, string]> = [
    [join(tinyBert, "config.json"), "model/config.json"],
    [join(tinyBert, "model.safetensors"), "model/model.safetensors"],
  ];

  before(async () => {
    await env.start({ memoryMb: 384, idleMs: 120_000, originDomain: "spaces.localhost" });
    for (const n of ["hello", "classifier"]) await env.createSpace(n);
  });
  after(() => env.close());

  it("a static Space is served from the repo at the latest commit, also at its own origin", async () => {
    const { url } = env;
    const sha = await env.push("hello", join(spacesDir, "static"));
    await env.running("hello", sha);
    const r = await fetch(`${url}/spaces/admin/hello/app/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(r.headers.get("content-security-policy") ?? "", /^sandbox allow-scripts/);
    assert.match(await r.text(), /Hello from a static Space \(v1\)/);
    assert.match(
      (await fetch(`${url}/spaces/admin/hello/app/style.css`)).headers.get("content-type") ?? "",
      /text\/css/,
    );
    assert.match(await (await fetch(`${url}/spaces/admin/hello/app/sub/`)).text(), /A sub page/);
    assert.equal((await fetch(`${url}/spaces/admin/hello/app/nope.html`)).status, 404);
    const redirect = await fetch(`${url}/spaces/admin/hello/app`, { redirect: "manual" });
    assert.equal(redirect.headers.get("location"), "/spaces/admin/hello/app/");
    assert.match(await env.getWithHost("/", "admin--hello.spaces.localhost"), /Hello from a static Space/);
    // the hub page: status, embedded app, linked model
    const page = await (await fetch(`${url}/spaces/admin/hello`)).text();
    assert.match(page, /id="space-stage" role="status">running</);
    assert.match(
      page,
      new RegExp(
        `<iframe class="app" id="space-app" title="Static hello \\(Space app\\)" src="http://admin--hello\\.spaces\\.localhost:${new URL(url).port}/" sandbox="allow-scripts allow-forms allow-popups allow-downloads allow-modals allow-same-origin">`,
      ),
    );
    assert.match(page, /<a class="badge" href="\/admin\/tiny-bert">model: admin\/tiny-bert<\/a>/);
    // a new commit is served at once
    const index = join(env.clone("hello"), "index.html");
    await writeFile(index, (await readFile(index, "utf8")).replace("(v1)", "(v2)"));
    await env.pushChanges("hello", "v2");
    assert.match(await (await fetch(`${url}/spaces/admin/hello/app/`)).text(), /\(v2\)/);
    const info = (await (await fetch(`${url}/api/spaces/admin/hello`)).json()) as { sdk: string; runtime: RuntimeInfo };
    assert.deepEqual([info.sdk, info.runtime.stage], ["static", "RUNNING"]);
  });

  it("a node Space: a pipeline over a tiny checkpoint, pushed with git-lfs, answers /api/predict as the pipeline does here", async () => {
    const sha = await env.push("classifier", join(spacesDir, "classifier"), weights);
    // the weights travelled as an LFS object, not as a git blob
    const pointer = await env.git(env.clone("classifier"), "lfs", "ls-files", "--name-only");
    assert.match(pointer, /^model\/model\.safetensors$/m);
    await env.running("classifier", sha);
    for (const text of ["what a lovely day", "the worst film i have seen"]) {
      const r = await env.predict("classifier", text);
      assert.equal(r.status, 200);
      const { data } = (await r.json()) as { data: [Record<string, number>] };
      assertScoresClose(data[0], await scoresHere(join(env.clone("classifier"), "model"), text));
    }
    // the two examples are told apart (the vocabulary knows these words)
    const a = ((await (await env.predict("classifier", "what a lovely day")).json()) as { data: [object] }).data[0];
    const b = ((await (await env.predict("classifier", "the worst film i have seen")).json()) as { data: [object] })
      .data[0];
    assert.notDeepEqual(a, b);
    const bad = await env.predict("classifier", 42);
    assert.equal(bad.status, 400);
    const buildLog = await env.log("classifier", "build");
    for (const pkg of ["@hearth/spaces", "@hearth/transformers", "@hearth/tensor"])
      assert.match(buildLog, new RegExp(`copied ${pkg} from the workspace package\\\\n`));
    assert.match(buildLog, /copied @huggingface\/jinja from the workspace node_modules/);
    assert.doesNotMatch(buildLog, /npm install/);
    assert.match(buildLog, /build succeeded/);
    const page = await (await fetch(`${env.url}/spaces/admin/classifier`)).text();
    assert.match(page, /<a class="badge" href="\/datasets\/admin\/reviews">dataset: admin\/reviews<\/a>/);
    assert.match(page, /id="space-stage" role="status">running</);
  });

  it("headless Chromium fills the demo form and reads the pipeline's result", {
    skip: chromiumPath ? false : "chromium is not installed (apt-get install -y chromium)",
  }, async () => {
    const text = "the worst film i have seen";
    const want = await scoresHere(join(env.clone("classifier"), "model"), text);
    const profile = await mkdtemp(join(tmpdir(), "hearth-chromium-"));
    const browser = await Browser.launch(profile);
    try {
      const s = await browser.open(`${env.url}/spaces/admin/classifier/app/`);
      assert.equal(await browser.eval(s, "document.querySelector('label[for=in0]').textContent"), "Text");
      await browser.eval(
        s,
        `document.getElementById('in0').value = ${JSON.stringify(text)}; document.querySelector('#demo-form button[type=submit]').click(); true`,
      );
      const status = await until(
        "the demo result",
        async () => {
          const t = (await browser.eval(s, "document.getElementById('status').textContent")) as string;
          return /^(Done|Error)/.test(t) && t;
        },
        30_000,
      );
      assert.match(status, /^Done in/);
      const top = Object.entries(want).sort((x, y) => y[1] - x[1])[0] as [string, number];
      assert.equal(await browser.eval(s, "document.querySelector('#out0 .label-top').textContent"), top[0]);
      const meters = JSON.parse(
        (await browser.eval(
          s,
          "JSON.stringify([...document.querySelectorAll('#out0 meter')].map((m) => [m.getAttribute('aria-label'), m.value]))",
        )) as string,
      ) as Array<[string, number]>;
      assertScoresClose(Object.fromEntries(meters), want);
      // the hub's Space page embeds the app at its own origin
      const page = await browser.open(`${env.url}/spaces/admin/classifier`);
      const origin = `http://admin--classifier.spaces.localhost:${new URL(env.url).port}/`;
      assert.equal(await browser.eval(page, "document.getElementById('space-app').getAttribute('src')"), origin);
      // an owner sees the run log, streamed live (the script empties the server-rendered text, then appends events)
      const cookie = (await env.signIn()).split("=");
      await browser.send("Storage.setCookies", {
        cookies: [{ name: cookie[0], value: cookie.slice(1).join("="), url: env.url }],
      });
      const owner = await browser.open(`${env.url}/spaces/admin/classifier`);
      await until("live run log", async () =>
        /running on port \d+/.test(
          (await browser.eval(owner, "document.getElementById('log-run').textContent")) as string,
        ),
      );
      const shots = process.env.HEARTH_SCREENSHOT_DIR;
      if (shots) {
        await writeFile(join(shots, "space-demo.png"), await browser.screenshot(s));
        await new Promise((r) => setTimeout(r, 1500)); // let the embedded app paint
        await writeFile(join(shots, "space-page.png"), await browser.screenshot(owner));
      }
      // the per-Space origin (Chromium resolves *.localhost to loopback) serves the app itself
      const own = await browser.open(origin);
      assert.equal(await browser.eval(own, "document.querySelector('h1').textContent"), "Tiny classifier v1");
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    }
  });

  it("a second push changes the app and the new version is served", async () => {
    const app = join(env.clone("classifier"), "app.ts");
    await writeFile(app, (await readFile(app, "utf8")).replace("Tiny classifier v1", "Tiny classifier v2"));
    const sha = await env.pushChanges("classifier", "v2");
    // while v2 builds, v1 keeps answering
    assert.equal((await env.predict("classifier", "hello")).status, 200);
    await env.running("classifier", sha);
    assert.match(await (await fetch(`${env.url}/spaces/admin/classifier/app/`)).text(), /<h1>Tiny classifier v2<\/h1>/);
    assert.equal((await env.predict("classifier", "hello")).status, 200);
  });
});
