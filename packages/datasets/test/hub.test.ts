import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startTestHub, type TestHub } from "@hearth/hub/test-server";
import { ClassLabel, Dataset, DatasetDict, hubResolver, hubUploader, loadDataset, pushToHub } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const TOKEN = "hf_datasets_test_token";
const { dir, cleanup } = tempDir();
after(cleanup);

describe("against a local test hub", () => {
  let hub: TestHub;
  let client: { endpoint: string; accessToken: string; hubCacheDir: string };
  before(async () => {
    hub = await startTestHub();
    hub.addUser(TOKEN, { name: "alice" });
    client = { endpoint: hub.url, accessToken: TOKEN, hubCacheDir: join(dir, "hub-cache") };
  });
  after(() => hub.close());

  test("loadDataset of a repo id: README configs, files downloaded into the HF cache", async () => {
    await hub.seed({
      repo: "alice/reviews",
      type: "dataset",
      files: {
        "README.md":
          "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n  - split: test\n    path: data/test-*\n---\n",
        "data/train-00000-of-00001.csv": "text,label\ngood,1\nbad,0\n",
        "data/test-00000-of-00001.csv": "text,label\nfine,1\n",
        "notes.txt": "not data",
      },
    });
    const dd = await loadDataset("alice/reviews", { hub: hubResolver(client), cacheDir: join(dir, "ds-cache") });
    assert.deepEqual([...dd.keys()], ["train", "test"]);
    assert.deepEqual(dd.split("train").toList(), [
      { text: "good", label: 1 },
      { text: "bad", label: 0 },
    ]);
    assert.match(dd.split("test").cacheFiles[0].filename, /csv-test\.arrow$/);
  });

  test("pushToHub then loadDataset round-trips rows and features", async () => {
    const train = Dataset.fromDict(
      { text: ["a", "b", "c", "d", "e"], label: [0, 1, 1, 0, 1] },
      { cacheDir: dir, features: { label: ClassLabel({ names: ["neg", "pos"] }) } as never },
    );
    const dd = new DatasetDict([
      ["train", train],
      ["test", train.select([4])],
    ]);
    const paths = await pushToHub(dd, "alice/pushed", { uploader: hubUploader(client), maxShardRows: 3 });
    assert.ok(paths.includes("data/train-00001-of-00002.parquet"));
    const back = await loadDataset("alice/pushed", { hub: hubResolver(client), cacheDir: join(dir, "ds-cache") });
    assert.deepEqual(back.split("train").toList(), train.toList());
    assert.deepEqual(back.split("train").features, train.features);
    assert.deepEqual(back.split("test").column("text"), ["e"]);
  });

  test("streaming Parquet from the hub reads byte ranges, not whole files", async () => {
    const rows = Dataset.fromDict({ i: Array.from({ length: 5000 }, (_, k) => k) }, { cacheDir: dir });
    await pushToHub(rows, "alice/big", { uploader: hubUploader(client) });
    const before = hub.log.length;
    const stream = await loadDataset("alice/big", { hub: hubResolver(client), split: "train", streaming: true });
    const first = await stream.take(3).toList();
    assert.deepEqual(first, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    const gets = hub.log.slice(before).filter((r) => r.method === "GET" && r.path.endsWith(".parquet"));
    assert.ok(gets.length > 0 && gets.every((r) => r.range), "every Parquet read is a Range request");
    const all = await (
      await loadDataset("alice/big", { hub: hubResolver(client), split: "train", streaming: true })
    ).toList();
    assert.equal(all.length, 5000);
  });

  test("a repo the hub does not have is a coded error", async () => {
    await assert.rejects(loadDataset("alice/missing", { hub: hubResolver(client), cacheDir: dir }), {
      code: "HEARTH_DATASETS_HUB_UNAVAILABLE",
    });
  });
});
