import assert from "node:assert/strict";
import { test } from "node:test";
import { setBackend, type Tensor, tensor } from "@hearth/tensor";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import { AutoModelForSpeechSeq2Seq } from "../auto.ts";
import { WhisperForConditionalGeneration } from "./index.ts";

setBackend("js");

const g = loadGolden("whisper");
const j = g.json as unknown as Record<string, unknown>;
const features = () => tensor(g.tensor("input_features"), { shape: g.shape("input_features") });

test("whisper: encoder, decoder and logits match Python within 1e-4", async () => {
  const m = await AutoModelForSpeechSeq2Seq.fromPretrained(`${HF_TINY}models/whisper`);
  assert.ok(m instanceof WhisperForConditionalGeneration);
  const out = m.forward({
    inputFeatures: features(),
    decoderInputIds: tensor(j.decoder_input_ids as number[][], { dtype: "int64" }),
    outputHiddenStates: true,
  });
  assertClose(out.encoderLastHiddenState, g.tensor("encoder_last_hidden_state"), "encoder_last_hidden_state");
  assert.equal(out.encoderHiddenStates?.length, 3);
  out.encoderHiddenStates?.forEach((h, i) => {
    assertClose(h, g.tensor(`encoder_hidden_states.${i}`), `encoder_hidden_states.${i}`);
  });
  assertClose(out.lastHiddenState, g.tensor("decoder_last_hidden_state"), "decoder_last_hidden_state");
  assertClose(out.logits, g.tensor("logits"), "logits");
  assert.equal(m.stateDict()["proj_out.weight"], m.model.decoder.embed_tokens.weight, "tied output projection");
});

test("whisper: greedy generate reproduces Python token for token, with its per-step scores", async () => {
  const m = await WhisperForConditionalGeneration.fromPretrained(`${HF_TINY}models/whisper`);
  const kw = j.generate_kwargs as { max_new_tokens: number };
  const out = await m.generate(features(), {
    maxNewTokens: kw.max_new_tokens,
    returnDictInGenerate: true,
    outputScores: true,
  });
  assert.deepEqual(out.sequences.tolistSync(), j.generate_sequences);
  const scores = out.scores as Tensor[];
  assert.equal(scores.length, 20);
  const flat = new Float32Array(20 * 1000);
  scores.forEach((s, i) => {
    flat.set(s.dataSync() as Float32Array, i * 1000);
  });
  assertClose(flat, g.tensor("generate_scores"), "generate_scores");
  // Without the cache: the same tokens.
  const noCache = await m.generate(features(), { maxNewTokens: 8, useCache: false });
  assert.deepEqual((noCache.tolistSync() as number[][])[0], (j.generate_sequences as number[][])[0]?.slice(0, 9));
});

test("whisper: labels are shifted right after the start token for the loss", async () => {
  const m = await WhisperForConditionalGeneration.fromPretrained(`${HF_TINY}models/whisper`);
  const ids = j.decoder_input_ids as number[][];
  const labels = [[...(ids[0] as number[]).slice(1), 2]];
  const out = m.forward({ inputFeatures: features(), labels: tensor(labels, { dtype: "int64" }) });
  // decoder input = [start, labels[:-1]] = the golden's decoder_input_ids, so logits agree.
  assertClose(out.logits, g.tensor("logits"), "logits from labels");
  const logits = g.tensor("logits");
  let want = 0;
  (labels[0] as number[]).forEach((y, t) => {
    const row = logits.subarray(t * 1000, (t + 1) * 1000);
    const max = Math.max(...row);
    want += max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) - (row[y] as number);
  });
  assert.ok(Math.abs((out.loss as Tensor).item() - want / 5) < 1e-4);
  assert.throws(
    () =>
      m.forward({
        inputFeatures: tensor(new Float32Array(80 * 10), { shape: [1, 80, 10] }),
        labels: tensor(labels, { dtype: "int64" }),
      }),
    {
      code: "HEARTH_MODEL_BAD_INPUT",
    },
  );
});

test("whisper: the decoder prompt carries language, task and <|notimestamps|>; timestamps follow Python's rules", async () => {
  const m = await WhisperForConditionalGeneration.fromPretrained(`${HF_TINY}models/whisper`);
  // A multilingual-style generation config over the tiny vocabulary.
  Object.assign(m.generationConfig.extra, {
    lang_to_id: { "<|en|>": 900, "<|fr|>": 901 },
    task_to_id: { transcribe: 902, translate: 903 },
    no_timestamps_token_id: 904,
    suppress_tokens: [7],
    begin_suppress_tokens: [516],
  });
  const fr = (
    (await m.generate(features(), { language: "fr", task: "translate", maxNewTokens: 6 })).tolistSync() as number[][]
  )[0] as number[];
  assert.deepEqual(fr.slice(0, 4), [1, 901, 903, 904]);
  assert.ok(!fr.slice(4).includes(7), "suppressed token never generated");
  assert.notEqual(fr[4], 516, "begin-suppressed token not generated first");
  // Without a language, the likelier language token after the start token is chosen.
  const logits = m
    .forward({ inputFeatures: features(), decoderInputIds: tensor([[1]], { dtype: "int64" }) })
    .logits.dataSync() as Float32Array;
  const lang = (logits[900] as number) > (logits[901] as number) ? 900 : 901;
  const auto = ((await m.generate(features(), { maxNewTokens: 2 })).tolistSync() as number[][])[0] as number[];
  assert.deepEqual(auto.slice(0, 4), [1, lang, 902, 904]);
  // With timestamps: no <|notimestamps|>, the first token is a timestamp, and they come in order.
  const ts = (
    (
      await m.generate(features(), { language: "en", returnTimestamps: true, maxNewTokens: 10 })
    ).tolistSync() as number[][]
  )[0] as number[];
  assert.deepEqual(ts.slice(0, 3), [1, 900, 902]);
  assert.ok((ts[3] as number) >= 905, `first generated token ${ts[3]} is a timestamp`);
  const stamps = ts.slice(3).filter((t) => t >= 905);
  for (let i = 1; i < stamps.length; i++) assert.ok((stamps[i] as number) >= (stamps[i - 1] as number));
  await assert.rejects(m.generate(features(), { language: "de" }), { code: "HEARTH_GENERATION_BAD_OPTION" });
});

test("whisper: batched inputs, beam search and several samples share the encoder output correctly", async () => {
  const m = await WhisperForConditionalGeneration.fromPretrained(`${HF_TINY}models/whisper`);
  const x = g.tensor("input_features");
  const two = tensor(new Float32Array([...x, ...x.map((v) => -v)]), { shape: [2, 80, 100] });
  const greedy = (await m.generate(two, { maxNewTokens: 8 })).tolistSync() as number[][];
  assert.deepEqual(
    greedy[0],
    (j.generate_sequences as number[][])[0]?.slice(0, 9),
    "row 0 is the golden's greedy decode",
  );
  const alone = (
    await m.generate(
      tensor(
        x.map((v) => -v),
        { shape: [1, 80, 100] },
      ),
      { maxNewTokens: 8 },
    )
  ).tolistSync();
  assert.deepEqual([greedy[1]], alone, "row 1 decodes as it does alone");
  const beams = (
    await m.generate(two, { maxNewTokens: 6, numBeams: 3, numReturnSequences: 2 })
  ).tolistSync() as number[][];
  assert.equal(beams.length, 4);
  const one = (await m.generate(features(), { maxNewTokens: 6, numBeams: 1 })).tolistSync() as number[][];
  assert.deepEqual(one[0], greedy[0]?.slice(0, 7));
  const sampled = (
    await m.generate(features(), { maxNewTokens: 4, doSample: true, numReturnSequences: 2 })
  ).tolistSync() as number[][];
  assert.equal(sampled.length, 2);
});
