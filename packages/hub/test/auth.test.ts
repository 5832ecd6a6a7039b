import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getToken, isHubError, login, logout, whoami } from "../src/index.ts";
import { hubWithUser, TOKEN, tmp, withEnv } from "./helpers.ts";
import type { TestHub } from "./server/index.ts";

describe("login, logout, whoami and token storage as huggingface_hub does it", () => {
  let hub: TestHub;
  before(async () => {
    hub = await hubWithUser();
    hub.addUser("hf_second", { name: "alice", tokenName: "laptop" });
  });
  after(() => hub.close());

  test("login validates with whoami-v2 and writes token + stored_tokens with mode 0600", async () => {
    const t = tmp();
    try {
      await withEnv(
        { HF_HOME: t.dir, HF_TOKEN: undefined, HF_TOKEN_PATH: undefined, HF_STORED_TOKENS_PATH: undefined },
        async () => {
          const res = await login({ token: TOKEN, endpoint: hub.url });
          assert.equal(res.user.name, "alice");
          assert.equal(res.tokenName, "alice-token");
          await login({ token: "hf_second", endpoint: hub.url });
          assert.equal(readFileSync(join(t.dir, "token"), "utf8"), "hf_second");
          assert.equal(
            readFileSync(join(t.dir, "stored_tokens"), "utf8"),
            `[alice-token]\nhf_token = ${TOKEN}\n\n[laptop]\nhf_token = hf_second\n\n`,
          );
          assert.equal(statSync(join(t.dir, "token")).mode & 0o777, 0o600);
          assert.equal(statSync(join(t.dir, "stored_tokens")).mode & 0o777, 0o600);
          assert.equal(getToken(), "hf_second");
          assert.equal((await whoami({ endpoint: hub.url })).name, "alice");
          const whoamiCalls = hub.log.filter((r) => r.path === "/api/whoami-v2");
          assert.equal(whoamiCalls.at(-1)?.auth, "Bearer hf_second");

          await logout({ tokenName: "laptop" });
          assert.equal(existsSync(join(t.dir, "token")), false, "the active token was the one logged out");
          assert.equal(readFileSync(join(t.dir, "stored_tokens"), "utf8"), `[alice-token]\nhf_token = ${TOKEN}\n\n`);
          await assert.rejects(logout({ tokenName: "nope" }), (e) => isHubError(e, "HEARTH_HUB_INVALID_ARGUMENT"));
          assert.deepEqual(await logout(), { wasLoggedIn: true, envTokenStillSet: false });
          assert.equal(existsSync(join(t.dir, "stored_tokens")), false);
          assert.deepEqual(await logout(), { wasLoggedIn: false, envTokenStillSet: false });
        },
      );
    } finally {
      t.cleanup();
    }
  });

  test("bad tokens are refused and nothing is written", async () => {
    const t = tmp();
    try {
      await withEnv({ HF_HOME: t.dir, HF_TOKEN: undefined }, async () => {
        await assert.rejects(login({ token: "hf_wrong", endpoint: hub.url }), (e) =>
          isHubError(e, "HEARTH_HUB_INVALID_TOKEN"),
        );
        await assert.rejects(login({ token: "api_org_xyz", endpoint: hub.url }), (e) =>
          isHubError(e, "HEARTH_HUB_INVALID_TOKEN"),
        );
        assert.equal(existsSync(join(t.dir, "token")), false);
        await assert.rejects(whoami({ endpoint: hub.url }), (e) => isHubError(e, "HEARTH_HUB_NOT_LOGGED_IN"));
      });
    } finally {
      t.cleanup();
    }
  });

  test("HF_TOKEN wins over the token file; HF_TOKEN_PATH moves the file", async () => {
    const t = tmp();
    try {
      writeFileSync(join(t.dir, "token"), "hf_from_file\n");
      await withEnv({ HF_HOME: t.dir, HF_TOKEN: undefined, HF_TOKEN_PATH: undefined }, () => {
        assert.equal(getToken(), "hf_from_file");
      });
      await withEnv({ HF_HOME: t.dir, HF_TOKEN: TOKEN }, async () => {
        assert.equal(getToken(), TOKEN);
        assert.equal((await whoami({ endpoint: hub.url })).name, "alice");
      });
      writeFileSync(join(t.dir, "elsewhere"), "hf_elsewhere");
      await withEnv({ HF_HOME: t.dir, HF_TOKEN: undefined, HF_TOKEN_PATH: join(t.dir, "elsewhere") }, () => {
        assert.equal(getToken(), "hf_elsewhere");
      });
    } finally {
      t.cleanup();
    }
  });
});
