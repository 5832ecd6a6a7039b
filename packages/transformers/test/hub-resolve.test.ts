/**
 * `fromPretrained("org/name")` downloads the model files from a hub into the HF cache, as
 * Python's transformers does: here the real Hearth hub server, in-process on a loopback port,
 * reached through `HF_ENDPOINT` / `HF_TOKEN` / `HF_HUB_CACHE`. Skipped, with a message, in a
 * checkout without `@hearth/hub-server`.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createRepo, uploadFolder } from "@hearth/hub";
import { tensor } from "@hearth/tensor";
import { AutoModelForCausalLM } from "../src/index.ts";
import { HF_TINY } from "./golden.ts";

interface HubApp {
  listen(o: { port: number; host: string }): Promise<unknown>;
  server: { address(): unknown };
  close(): Promise<void>;
}

async function startHub(dataDir: string): Promise<{ url: string; token: string; close(): Promise<void> } | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(["@hearth", "hub-server"].join("/"))) as Record<string, unknown>;
  } catch (err) {
    return `@hearth/hub-server is not in this checkout (${(err as Error).message.split("\n")[0]})`;
  }
  const app = await (mod.buildApp as (o: object) => Promise<HubApp>)({ dataDir });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { token } = await (mod.createUser as (a: HubApp, o: { name: string }) => Promise<{ token: string }>)(app, {
    name: "alice",
  });
  return {
    url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    token,
    close: () => app.close(),
  };
}

describe("fromPretrained with a hub repository id", async () => {
  const root = mkdtempSync(join(tmpdir(), "hearth-hub-resolve-"));
  const saved = { ...process.env };
  after(() => {
    for (const k of ["HF_ENDPOINT", "HF_TOKEN", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(root, { recursive: true, force: true });
  });
  const hub = await startHub(join(root, "hub"));
  if (typeof hub === "string") {
    test.skip(`skipped: ${hub}`, () => {});
    return;
  }
  after(() => hub.close());
  const call = { endpoint: hub.url, accessToken: hub.token, progressBar: false as const };
  await createRepo({ ...call, repo: "alice/tiny-gpt2" });
  await uploadFolder({ ...call, repo: "alice/tiny-gpt2", folderPath: `${HF_TINY}models/gpt2` });
  Object.assign(process.env, {
    HF_ENDPOINT: hub.url,
    HF_TOKEN: hub.token,
    HF_HUB_CACHE: join(root, "cache"),
    HF_HUB_DISABLE_PROGRESS_BARS: "1",
  });

  const logits = async (m: Awaited<ReturnType<typeof AutoModelForCausalLM.fromPretrained>>) =>
    Array.from(m.forward({ inputIds: tensor([[5, 9, 2, 7]], { dtype: "int64" }) }).logits.dataSync() as Float32Array);

  test("downloads into the HF cache layout and gives the same model as the local folder", async () => {
    const remote = await AutoModelForCausalLM.fromPretrained("alice/tiny-gpt2");
    const local = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
    assert.deepEqual(await logits(remote), await logits(local));
    const repoDir = join(root, "cache", "models--alice--tiny-gpt2");
    assert.ok(existsSync(join(repoDir, "refs", "main")), "refs/main written");
    const [commit] = readdirSync(join(repoDir, "snapshots"));
    assert.ok(commit);
    assert.deepEqual(readdirSync(join(repoDir, "snapshots", commit)).sort(), [
      "config.json",
      "generation_config.json",
      "model.safetensors",
    ]);
  });

  test("offline, the cached snapshot serves; an uncached repo fails naming it", async () => {
    process.env.HF_HUB_OFFLINE = "1";
    try {
      const m = await AutoModelForCausalLM.fromPretrained("alice/tiny-gpt2");
      assert.equal(m.constructor.name, "GPT2LMHeadModel");
      await assert.rejects(AutoModelForCausalLM.fromPretrained("alice/absent"), /alice\/absent/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  });
});
