import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { Dataset, Image, type LazyAudio, LazyImage, loadDataset, loadFromDisk, saveToDisk } from "../src/index.ts";
import { dataPath, tempDir } from "./helpers.ts";

const { dir, cleanup } = tempDir();
after(cleanup);

test("imagefolder: labels from folder names, images decoded lazily", async () => {
  const root = join(dir, "pets");
  mkdirSync(join(root, "cat"), { recursive: true });
  mkdirSync(join(root, "photo"), { recursive: true });
  copyFileSync(dataPath("media/images/chelsea.png"), join(root, "cat", "chelsea.png"));
  copyFileSync(dataPath("media/images/test_image_rgb.jpg"), join(root, "photo", "rgb.jpg"));
  const ds = await loadDataset(root, { split: "train", cacheDir: join(dir, "cache") });
  assert.deepEqual(ds.features, { image: { _type: "Image" }, label: { _type: "ClassLabel", names: ["cat", "photo"] } });
  const rows = ds.toList();
  const cat = rows.find((r) => r.label === 0)?.image as LazyImage;
  assert.ok(cat instanceof LazyImage);
  assert.deepEqual(cat.size(), { width: 451, height: 300, format: "png" });
  const jpg = rows.find((r) => r.label === 1)?.image as LazyImage;
  assert.deepEqual(jpg.size(), { width: 640, height: 480, format: "jpeg" });
  // map sees the lazy image and can write plain values derived from it.
  const sized = await ds.map((r: { image: LazyImage }) => ({ width: r.image.size().width }));
  assert.deepEqual([...(sized.column("width") as number[])].sort(), [451, 640]);
});

test("audiofolder: WAV decodes to float samples; other codecs give a coded error", async () => {
  const root = join(dir, "sounds");
  mkdirSync(join(root, "speech"), { recursive: true });
  mkdirSync(join(root, "tone"), { recursive: true });
  copyFileSync(dataPath("media/audio/jfk.wav"), join(root, "speech", "jfk.wav"));
  copyFileSync(dataPath("media/audio/test_audio_16000.mp3"), join(root, "tone", "a.mp3"));
  const ds = await loadDataset("audiofolder", { dataDir: root, split: "train", cacheDir: join(dir, "cache") });
  const speech = ds.toList().find((r) => r.label === 0)?.audio as LazyAudio;
  const { array, samplingRate } = speech.decode();
  assert.equal(samplingRate, 16000);
  assert.equal(array.length, 176000);
  assert.ok(Math.max(...array.subarray(0, 16000 * 3).map(Math.abs)) > 0.05, "the clip is not silent");
  const mp3 = ds.toList().find((r) => r.label === 1)?.audio as LazyAudio;
  assert.throws(() => mp3.decode(), { code: "HEARTH_DATASETS_DECODE_FAILED" });
});

test("embedded image bytes survive saveToDisk/loadFromDisk", () => {
  const bytes = new Uint8Array(readFileSync(dataPath("media/images/chelsea.png")));
  const ds = Dataset.fromDict({ img: [{ bytes, path: null }] }, { cacheDir: dir, features: { img: Image() } });
  saveToDisk(ds, join(dir, "saved-img"));
  const back = loadFromDisk(join(dir, "saved-img")) as Dataset;
  assert.deepEqual((back.get(0).img as LazyImage).size(), { width: 451, height: 300, format: "png" });
});
