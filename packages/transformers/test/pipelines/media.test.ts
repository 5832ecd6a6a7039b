import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { setBackend, type Tensor, tensor } from "@hearth/tensor";
import {
  type AsrOutput,
  AutoProcessor,
  type ClassificationOutput,
  Processor,
  pipeline,
  readWav,
  resampleAudio,
  softmax,
  splitSegments,
  ViTForImageClassification,
  ViTImageProcessor,
  WhisperFeatureExtractor,
  WhisperForConditionalGeneration,
} from "../../src/index.ts";
import { loadGolden } from "../golden.ts";
import { tinyModelDir } from "./fixtures.ts";

setBackend("js");

const hasFfmpeg = spawnSync(process.env.HEARTH_FFMPEG || "ffmpeg", ["-version"]).status === 0;

const media = (p: string) => fileURLToPath(new URL(`../../../../fixtures/data/media/${p}`, import.meta.url));
const CHELSEA = media("images/chelsea.png");
const JFK = media("audio/jfk.wav");

let vit: { dir: string; cleanup: () => Promise<void> };
let whisper: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  vit = await tinyModelDir("vit");
  const g = loadGolden("preprocessing");
  await new ViTImageProcessor(
    (g.json as unknown as Record<string, Record<string, unknown>>).vit_processor_32,
  ).savePretrained(vit.dir);
  whisper = await tinyModelDir("whisper");
  // The tiny model reads 100 frames: a 1 s window.
  await writeFile(
    join(whisper.dir, "preprocessor_config.json"),
    JSON.stringify({ feature_extractor_type: "WhisperFeatureExtractor", feature_size: 80, chunk_length: 1 }),
  );
});
after(async () => {
  await vit.cleanup();
  await whisper.cleanup();
});

test("image-classification: chelsea.png's labels are the softmax of the model on Python's pixel values", async () => {
  const g = loadGolden("preprocessing");
  const model = await ViTForImageClassification.fromPretrained(vit.dir);
  const pixels = tensor(g.tensor("vit_chelsea_pixel_values_32"), { shape: [1, 3, 32, 32] });
  const probs = softmax(model.forward({ pixelValues: pixels }).logits.dataSync() as Float32Array);
  const classifier = await pipeline("image-classification", vit.dir);
  const out = (await classifier.call(CHELSEA, { topK: 3 })) as ClassificationOutput[];
  const order = probs.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  assert.deepEqual(
    out.map((o) => o.label),
    order.slice(0, 3).map(([, i]) => `LABEL_${i}`),
  );
  assert.ok(Math.abs((out[0]?.score as number) - (order[0]?.[0] as number)) < 1e-5);
  const both = (await classifier.call([CHELSEA, await readFile(CHELSEA)])) as ClassificationOutput[][];
  assert.deepEqual(both[0], both[1], "a path and the encoded bytes give the same result");
  assert.equal(both[0]?.length, 5);
});

test("automatic-speech-recognition: jfk.wav's first second through the tiny model, text from the vocabulary", async () => {
  const asr = await pipeline("automatic-speech-recognition", whisper.dir);
  const wav = await readWav(JFK);
  const first = wav.samples.subarray(0, 16000);
  const out = (await asr.call({ raw: first, samplingRate: 16000 }, { maxNewTokens: 12 })) as AsrOutput;
  const model = await WhisperForConditionalGeneration.fromPretrained(whisper.dir);
  const fe = new WhisperFeatureExtractor({ chunk_length: 1 });
  const ids = (await model.generate(fe.fromWaveforms([first]).inputFeatures, { maxNewTokens: 12 })) as Tensor;
  const row = (ids.tolistSync() as number[][])[0] as number[];
  const expected = row.slice(1, row.includes(2) ? row.indexOf(2) : undefined);
  assert.deepEqual(out.tokens, expected);
  assert.equal(
    out.text,
    expected
      .filter((t) => t >= 5)
      .map((t) => `w${t}`)
      .join(" "),
  );
  await assert.rejects(asr.call({ raw: first, samplingRate: 0 }), { code: "HEARTH_PIPELINE_BAD_INPUT" });
  if (hasFfmpeg) {
    // 8 kHz samples are resampled to the model's 16 kHz first: the same as giving the 16 kHz audio.
    const at8k = await resampleAudio(first, 16000, 8000);
    const back = await resampleAudio(at8k, 8000, 16000);
    const direct = (await asr.call({ raw: back, samplingRate: 16000 }, { maxNewTokens: 12 })) as AsrOutput;
    const resampled = (await asr.call({ raw: at8k, samplingRate: 8000 }, { maxNewTokens: 12 })) as AsrOutput;
    assert.deepEqual(resampled.tokens, direct.tokens);
  }
});

test("automatic-speech-recognition: long audio is decoded in windows with timestamps", async () => {
  const genPath = join(whisper.dir, "generation_config.json");
  const gen = JSON.parse(await readFile(genPath, "utf8"));
  const asr = await pipeline("automatic-speech-recognition", whisper.dir);
  // No timestamp tokens in this model's generation config: long-form is refused with the reason.
  await assert.rejects(asr.call(JFK, { maxNewTokens: 6 }), /timestamp/);
  // Declare ids 900.. as timestamps (0.00 s, 0.02 s, …) and transcribe the 11 s file.
  await writeFile(genPath, JSON.stringify({ ...gen, no_timestamps_token_id: 899 }));
  const withTs = await pipeline("automatic-speech-recognition", whisper.dir);
  const out = (await withTs.call(JFK, { maxNewTokens: 6, returnTimestamps: true })) as AsrOutput;
  assert.ok(out.chunks && out.chunks.length >= 1);
  for (const c of out.chunks ?? []) assert.ok(c.timestamp[0] <= c.timestamp[1]);
  const starts = (out.chunks ?? []).map((c) => c.timestamp[0]);
  assert.deepEqual(
    starts,
    [...starts].sort((a, b) => a - b),
    "segments advance through the audio",
  );
  assert.ok((out.chunks?.at(-1)?.timestamp[0] as number) < 11.5);
});

test("splitSegments: consecutive timestamps close segments; a lone final timestamp consumes the window", () => {
  const B = 100; // timestamp_begin
  // <0.00> a b <0.40><0.40> c <0.80><0.80> d  (unfinished: seek to 0.80 s = 40 positions · 2 frames)
  const r = splitSegments([100, 5, 6, 120, 120, 7, 140, 140, 8], B, 1, 3000);
  assert.deepEqual(
    r.segments.map((s) => [s.start, s.end, s.tokens]),
    [
      [1, 1.4, [100, 5, 6, 120]],
      [1.4, 1.8, [120, 7, 140]],
    ],
  );
  assert.equal(r.advance, 80);
  const single = splitSegments([100, 5, 6, 120, 120, 7, 150], B, 0, 3000);
  assert.equal(single.advance, 3000);
  assert.equal(single.segments.length, 2);
  const none = splitSegments([5, 6, 7], B, 0, 2000);
  assert.deepEqual([none.segments[0]?.end, none.advance], [20, 2000]);
});

test("AutoProcessor: feature extractor + tokenizer for whisper, the image processor alone without a tokenizer", async () => {
  const p = await AutoProcessor.fromPretrained(whisper.dir);
  assert.ok(p instanceof Processor);
  assert.ok(p.featureExtractor instanceof WhisperFeatureExtractor);
  assert.deepEqual(p.batchDecode([[1, 88, 14, 2]], { skipSpecialTokens: true }), ["w88 w14"]);
  const { inputFeatures } = await p.call(JFK);
  assert.deepEqual(inputFeatures.shape, [1, 80, 100]);
  const alone = await mkdtemp(join(tmpdir(), "hearth-proc-"));
  try {
    await new ViTImageProcessor().savePretrained(alone);
    assert.ok((await AutoProcessor.fromPretrained(alone)) instanceof ViTImageProcessor);
  } finally {
    await rm(alone, { recursive: true, force: true });
  }
});
