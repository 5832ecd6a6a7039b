import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { manualSeed, setBackend, type Tensor, tensor } from "@hearth/tensor";
import {
  AutoTokenizer,
  aggregate,
  BertConfig,
  BertForMaskedLM,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  type FillMaskOutput,
  type PreEntity,
  pipeline,
  softmax,
  type TokenEntity,
  type ZeroShotOutput,
} from "../../src/index.ts";
import { HF_TINY, loadGolden } from "../golden.ts";
import { tinyModelDir, writeVocab } from "./fixtures.ts";

setBackend("js");

let seqcls: { dir: string; cleanup: () => Promise<void> };
let bert: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  seqcls = await tinyModelDir("bert-seqcls");
  bert = await tinyModelDir("bert");
});
after(async () => {
  await seqcls.cleanup();
  await bert.cleanup();
});

const close = (a: number, b: number, tol = 1e-4) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test("text-classification: 'w88 w14' scores as Python's logits for [1, 88, 14, 2] say", async () => {
  const g = loadGolden("bert-seqcls");
  const row1 = (g.json.tensors as unknown as { logits: { values: number[][] } }).logits.values[1] as number[];
  const probs = softmax(row1);
  const classifier = await pipeline("text-classification", seqcls.dir);
  const [best] = (await classifier.call("w88 w14")) as { label: string; score: number }[];
  assert.equal(best?.label, "LABEL_2");
  close(best?.score as number, probs[2] as number);
  const all = (await classifier.call("w88 w14", { topK: null })) as { label: string; score: number }[];
  assert.deepEqual(
    all.map((x) => x.label),
    ["LABEL_2", "LABEL_1", "LABEL_0"],
  );
  close(
    all.reduce((s, x) => s + x.score, 0),
    1,
  );
  const batch = await classifier.call(["w88 w14", "w45 w230 w7"]);
  assert.equal(batch.length, 2);
  assert.equal(
    (batch[0] as unknown as { label: string }).label,
    "LABEL_2",
    "a list without topK gives one dict per text",
  );
  const sig = (await classifier.call("w88 w14", { functionToApply: "sigmoid", topK: 1 })) as { score: number }[];
  close(sig[0]?.score as number, 1 / (1 + Math.exp(-(row1[2] as number))));
});

test("feature-extraction: mean-pooled, normalised embedding of Python's hidden states", async () => {
  const g = loadGolden("bert");
  const hidden = g.tensor("last_hidden_state"); // row 1 = [1, 88, 14, 2] + padding
  const mean = new Array<number>(64).fill(0);
  for (let t = 0; t < 4; t++)
    for (let e = 0; e < 64; e++) mean[e] = (mean[e] as number) + (hidden[(8 + t) * 64 + e] as number) / 4;
  const norm = Math.sqrt(mean.reduce((s, x) => s + x * x, 0));
  const embed = await pipeline("feature-extraction", bert.dir);
  const [v] = (await embed.call(["w88 w14"], { pooling: "mean", normalize: true })) as number[][];
  v?.forEach((x, e) => {
    close(x, (mean[e] as number) / norm);
  });
  const tokens = (await embed.call("w88 w14")) as number[][][];
  assert.deepEqual([tokens.length, tokens[0]?.length, tokens[0]?.[0]?.length], [1, 4, 64], "[1, T, E] as Python");
  close(tokens[0]?.[1]?.[0] as number, hidden[9 * 64] as number);
  const cls = (await embed.call("w88 w14", { pooling: "cls" })) as number[];
  close(cls[0] as number, hidden[8 * 64] as number);
});

test("fill-mask: candidates are the softmax of the masked position's logits, best first", async () => {
  manualSeed(3);
  const config = await BertConfig.fromPretrained(`${HF_TINY}models/bert`);
  const mlm = new BertForMaskedLM(config).eval();
  const tok = await AutoTokenizer.fromPretrained(bert.dir);
  const unmasker = await pipeline("fill-mask", mlm, { tokenizer: tok });
  const out = (await unmasker.call("w45 [MASK] w7", { topK: 3 })) as FillMaskOutput[];
  const logits = mlm.forward({ inputIds: tensor([[1, 45, 3, 7, 2]], { dtype: "int64" }) }).logits;
  const row = (logits.dataSync() as Float32Array).subarray(2 * 1000, 3 * 1000);
  const probs = softmax(row);
  const best = probs.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  assert.deepEqual(
    out.map((o) => o.token),
    best.slice(0, 3).map((b) => b[1]),
  );
  close(out[0]?.score as number, best[0]?.[0] as number, 1e-6);
  assert.equal(out[0]?.sequence, `w45 ${out[0]?.token_str} w7`);
  const targeted = (await unmasker.call("w45 [MASK] w7", { targets: ["w10", "w11"] })) as FillMaskOutput[];
  assert.deepEqual(targeted.map((o) => o.token).sort(), [10, 11]);
  const two = (await unmasker.call("[MASK] w5 [MASK]", { topK: 2 })) as FillMaskOutput[][];
  assert.equal(two.length, 2, "one list per mask");
  await assert.rejects(unmasker.call("w5 w6"), { code: "HEARTH_PIPELINE_BAD_INPUT" });
});

test("token-classification: per-token labels with offsets; aggregation strategies group as Python's", async () => {
  manualSeed(5);
  const config = (await BertConfig.fromPretrained(`${HF_TINY}models/bert`)).clone({
    id2label: { 0: "O", 1: "B-PER", 2: "I-PER" },
    label2id: { O: 0, "B-PER": 1, "I-PER": 2 },
  });
  const model = new BertForTokenClassification(config).eval();
  const ner = await pipeline("ner", model, { tokenizer: await AutoTokenizer.fromPretrained(bert.dir) });
  const text = "w88 w14 w300";
  const all = (await ner.call(text, { ignoreLabels: [] })) as TokenEntity[];
  assert.deepEqual(
    all.map((e) => [e.word, e.index, text.slice(e.start, e.end)]),
    [
      ["w88", 1, "w88"],
      ["w14", 2, "w14"],
      ["w300", 3, "w300"],
    ],
  );
  // Word pieces: "berl" + "##in" form one word for the word-level strategies.
  const pieces = await mkdtemp(join(tmpdir(), "hearth-wp-"));
  try {
    await writeVocab(pieces, { 998: "berl", 999: "##in" });
    const wp = await pipeline("ner", model, { tokenizer: await AutoTokenizer.fromPretrained(pieces) });
    const tokensOut = (await wp.call("w88 berlin", { ignoreLabels: [] })) as TokenEntity[];
    assert.deepEqual(
      tokensOut.map((e) => [e.word, e.start, e.end]),
      [
        ["w88", 0, 3],
        ["berl", 4, 8],
        ["##in", 8, 10],
      ],
    );
    const words = (await wp.call("w88 berlin", { aggregationStrategy: "first", ignoreLabels: [] })) as TokenEntity[];
    assert.ok(
      words.some((e) => e.word.endsWith("berlin") && e.end === 10),
      JSON.stringify(words),
    );
    assert.ok(!words.some((e) => e.word === "##in" || e.start === 8), "the piece never starts a word");
  } finally {
    await rm(pieces, { recursive: true, force: true });
  }
  const pre = (word: string, scores: number[], start: number, isSubword = false): PreEntity => ({
    word,
    ids: [Number(word.replace(/\D/g, ""))],
    scores,
    start,
    end: start + word.length,
    index: start,
    isSubword,
  });
  const label = (i: number) => ["O", "B-PER", "I-PER"][i] as string;
  const decode = (ids: number[]) => ids.map((i) => `w${i}`).join(" ");
  const tokens = [
    pre("w1", [0.1, 0.8, 0.1], 0),
    pre("w2", [0.2, 0.1, 0.7], 3),
    pre("w3", [0.9, 0.05, 0.05], 6),
    pre("w4", [0.1, 0.6, 0.3], 9),
    pre("w5", [0.5, 0.1, 0.4], 12, true),
  ];
  const simple = aggregate(tokens, "simple", label, decode);
  assert.deepEqual(
    simple.map((e) => [e.entity_group, e.word, e.start, e.end]),
    [
      ["PER", "w1 w2", 0, 5],
      ["PER", "w4", 9, 11],
    ],
  );
  close(simple[0]?.score as number, 0.75);
  // "first": the word w4+w5 takes w4's label; "average" averages the pieces (B-PER 0.35 vs O 0.3).
  assert.deepEqual(
    aggregate(tokens, "first", label, decode).map((e) => [e.entity_group, e.word]),
    [
      ["PER", "w1 w2"],
      ["PER", "w4 w5"],
    ],
  );
  const avg = aggregate(tokens, "average", label, decode);
  close(avg[1]?.score as number, 0.35);
  assert.deepEqual(
    aggregate(tokens, "none", label, decode).map((e) => e.entity),
    ["B-PER", "I-PER", "B-PER", "O"].filter((x) => x !== "O"),
  );
});

test("zero-shot-classification: entailment logits of each hypothesis, compared across labels", async () => {
  const config = JSON.parse(await (await import("node:fs/promises")).readFile(join(seqcls.dir, "config.json"), "utf8"));
  config.id2label = { 0: "contradiction", 1: "neutral", 2: "entailment" };
  config.label2id = { contradiction: 0, neutral: 1, entailment: 2 };
  await writeFile(join(seqcls.dir, "config.json"), JSON.stringify(config));
  const zsc = await pipeline("zero-shot-classification", seqcls.dir);
  const out = (await zsc.call("w88 w14", {
    candidateLabels: ["w5", "w6"],
    hypothesisTemplate: "{}",
  })) as ZeroShotOutput;
  const model = await BertForSequenceClassification.fromPretrained(seqcls.dir);
  const pair = (l: number) =>
    model
      .forward({
        inputIds: tensor([[1, 88, 14, 2, l, 2]], { dtype: "int64" }),
        tokenTypeIds: tensor([[0, 0, 0, 0, 1, 1]], { dtype: "int64" }),
      })
      .logits.dataSync() as Float32Array;
  const ent = softmax([pair(5)[2] as number, pair(6)[2] as number]);
  const want = new Map([
    ["w5", ent[0] as number],
    ["w6", ent[1] as number],
  ]);
  out.labels.forEach((l, i) => {
    close(out.scores[i] as number, want.get(l) as number);
  });
  assert.ok((out.scores[0] as number) >= (out.scores[1] as number));
  const multi = (await zsc.call("w88 w14", { candidateLabels: "w5", hypothesisTemplate: "{}" })) as ZeroShotOutput;
  const p5 = pair(5);
  close(multi.scores[0] as number, softmax([p5[0] as number, p5[2] as number])[1] as number);
  await assert.rejects(zsc.call("x", { candidateLabels: ["a"], hypothesisTemplate: "no slot" }), /hypothesisTemplate/);
});

test("pipeline: unknown tasks and loaded models without a tokenizer are refused", async () => {
  await assert.rejects(pipeline("summarization" as "ner", seqcls.dir), { code: "HEARTH_PIPELINE_BAD_INPUT" });
  const m = await BertModel.fromPretrained(`${HF_TINY}models/bert`);
  await assert.rejects(pipeline("feature-extraction", m), /tokenizer/);
  assert.ok((m.forward({ inputIds: tensor([[1]], { dtype: "int64" }) }).lastHiddenState as Tensor).shape.length === 3);
});
