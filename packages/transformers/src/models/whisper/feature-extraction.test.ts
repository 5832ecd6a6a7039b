import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import { narrow, setBackend, tensor } from "@hearth/tensor";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import { ffmpegDecode, readAudio } from "../../audio/decode.ts";
import { rfft } from "../../audio/fft.ts";
import { decodeWav, readWav } from "../../audio/wav.ts";
import { WhisperFeatureExtractor, WhisperForConditionalGeneration } from "./index.ts";

setBackend("js");

const JFK = fileURLToPath(new URL("../../../../../fixtures/data/media/audio/jfk.wav", import.meta.url));
const g = loadGolden("preprocessing");
const j = g.json as unknown as Record<string, Record<string, unknown>>;

test("WhisperFeatureExtractor: the mel filter bank equals Python's", () => {
  const fe = new WhisperFeatureExtractor(j.whisper_feature_extractor);
  assert.deepEqual(g.shape("whisper_mel_filters"), [201, 80]);
  assertClose(Float32Array.from(fe.melFilters), g.tensor("whisper_mel_filters"), "mel filters", 1e-7);
});

test("WhisperFeatureExtractor: log-mel of jfk.wav matches Python within 1e-4", async () => {
  const wav = await readWav(JFK);
  assert.equal(wav.samples.length, (j.whisper_audio as { samples: number }).samples);
  assert.equal(wav.samplingRate, 16000);
  const fe = new WhisperFeatureExtractor(j.whisper_feature_extractor);
  const { inputFeatures, numFrames } = await fe.call(JFK);
  assert.deepEqual(inputFeatures.shape, [1, 80, 3000]);
  assert.deepEqual(numFrames, [1100]);
  const head = narrow(inputFeatures, 2, 0, 1104).contiguous();
  assertClose(head, g.tensor("whisper_jfk_input_features[:, :, :1104]"), "log-mel [:, :, :1104]");
  const full = j.whisper_jfk_input_features_full as { sum: number; abs_max: number };
  const all = inputFeatures.dataSync() as Float32Array;
  const sum = all.reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(sum - full.sum) < 0.05, `sum over all 3000 frames ${sum} vs ${full.sum}`);
});

test("tiny whisper on jfk.wav's first 100 frames: encoder output and generation match Python", async () => {
  const m = await WhisperForConditionalGeneration.fromPretrained(`${HF_TINY}models/whisper`);
  const fe = new WhisperFeatureExtractor(j.whisper_feature_extractor);
  const { inputFeatures } = await fe.call(JFK);
  const first = narrow(inputFeatures, 2, 0, 100).contiguous();
  const enc = m.model.encoder.forward(first);
  assertClose(
    enc.lastHiddenState,
    g.tensor("tiny_whisper_on_jfk_first100frames.encoder_last_hidden_state"),
    "encoder on jfk",
  );
  const ids = await m.generate(first, { maxNewTokens: 20 });
  assert.deepEqual(ids.tolistSync(), j["tiny_whisper_on_jfk_first100frames.generate_sequences"]);
});

test("rfft of length 400 agrees with a direct DFT; WAV errors are coded", () => {
  const x = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i * 0.37) + (i % 7) * 0.1);
  const { re, im } = rfft(x);
  for (const k of [0, 1, 7, 100, 199, 200]) {
    let sr = 0;
    let si = 0;
    for (let n = 0; n < 400; n++) {
      sr += (x[n] as number) * Math.cos((2 * Math.PI * k * n) / 400);
      si -= (x[n] as number) * Math.sin((2 * Math.PI * k * n) / 400);
    }
    assert.ok(Math.abs((re[k] as number) - sr) < 1e-9 && Math.abs((im[k] as number) - si) < 1e-9, `bin ${k}`);
  }
  assert.throws(() => decodeWav(Uint8Array.from([1, 2, 3])), { code: "HEARTH_PROCESSOR_BAD_INPUT" });
  const fe = new WhisperFeatureExtractor();
  assert.rejects(fe.call(new Float32Array(10), { samplingRate: 44100 }), /16000 Hz/);
  // Long audio without truncation keeps every frame (for long-form generation).
  const long = fe.fromWaveforms([new Float32Array(16000 * 31)], { truncation: false, returnAttentionMask: true });
  assert.deepEqual(long.inputFeatures.shape, [1, 80, 3100]);
  assert.deepEqual(long.numFrames, [3100]);
  // doNormalize: a waveform and its scaled, shifted copy give the same features.
  const wave = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i / 7) * 0.3);
  const a = fe.fromWaveforms([wave], { doNormalize: true }).inputFeatures.dataSync() as Float32Array;
  const b = fe
    .fromWaveforms([wave.map((v) => 3 * v + 0.5)], { doNormalize: true })
    .inputFeatures.dataSync() as Float32Array;
  assertClose(a, b, "normalised features", 1e-4);
  assert.equal(tensor([1]).item(), 1);
});

const hasFfmpeg = spawnSync(process.env.HEARTH_FFMPEG || "ffmpeg", ["-version"]).status === 0;

test("readAudio: other formats and rates through ffmpeg, as Python's ffmpeg_read", {
  skip: hasFfmpeg ? false : "ffmpeg is not installed (apt-get install ffmpeg)",
}, async () => {
  const native = (await readWav(JFK)).samples;
  const viaFfmpeg = await ffmpegDecode(await readFile(JFK), 16000);
  assert.equal(viaFfmpeg.length, native.length);
  assertClose(viaFfmpeg, native, "ffmpeg vs native WAV", 1e-6);
  const at8k = await readAudio(JFK, 8000);
  assert.ok(Math.abs(at8k.length - 88000) <= 2, `${at8k.length} samples at 8 kHz`);
});

test("readAudio: without ffmpeg, a non-WAV input is a coded error naming the fix", async () => {
  const saved = process.env.HEARTH_FFMPEG;
  process.env.HEARTH_FFMPEG = "/nonexistent/ffmpeg";
  try {
    await assert.rejects(
      readAudio(Uint8Array.from([0xff, 0xfb, 0x90, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 16000),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "HEARTH_PROCESSOR_BAD_INPUT");
        assert.match(e.message, /install ffmpeg/);
        return true;
      },
    );
  } finally {
    if (saved === undefined) delete process.env.HEARTH_FFMPEG;
    else process.env.HEARTH_FFMPEG = saved;
  }
});

/** The arrays of an .npz (a zip of .npy files, deflated): name → { shape, float32 data }. */
function readNpz(bytes: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (view.getUint32(at, true) === 0x04034b50) {
    const method = view.getUint16(at + 8, true);
    const size = view.getUint32(at + 18, true);
    const nameLen = view.getUint16(at + 26, true);
    const extraLen = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLen));
    const start = at + 30 + nameLen + extraLen;
    const raw = bytes.subarray(start, start + size);
    const npy = method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw;
    const headerLen = new DataView(npy.buffer, npy.byteOffset).getUint16(8, true);
    const header = new TextDecoder().decode(npy.subarray(10, 10 + headerLen));
    assert.match(header, /'descr': '<f4'/);
    const shape = (header.match(/'shape': \(([^)]*)\)/)?.[1] ?? "")
      .split(",")
      .filter((s) => s.trim())
      .map(Number);
    const body = npy.slice(10 + headerLen);
    out.set(name.replace(/\.npy$/, ""), {
      shape,
      data: new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4),
    });
    at = start + size;
  }
  return out;
}

test("WhisperFeatureExtractor: 80- and 128-bin filter banks equal openai/whisper's mel_filters.npz", async () => {
  const npz = readNpz(
    await readFile(
      fileURLToPath(new URL("../../../../../fixtures/data/tokenizers/whisper/mel_filters.npz", import.meta.url)),
    ),
  );
  for (const bins of [80, 128]) {
    const ref = npz.get(`mel_${bins}`);
    assert.deepEqual(ref?.shape, [bins, 201]);
    const ours = new WhisperFeatureExtractor({ feature_size: bins }).melFilters; // [201, bins]
    let worst = 0;
    for (let m = 0; m < bins; m++) {
      for (let f = 0; f < 201; f++)
        worst = Math.max(worst, Math.abs((ours[f * bins + m] as number) - (ref?.data[m * 201 + f] as number)));
    }
    assert.ok(worst < 1e-7, `mel_${bins}: largest difference ${worst}`);
  }
});
