import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed, setBackend, type Tensor, tensor } from "@hearth/tensor";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import {
  AutoModel,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
} from "../auto.ts";
import { BertConfig } from "./config.ts";
import { BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, BertModel } from "./modeling.ts";

setBackend("js");

type Rows = number[][];
const ids = (rows: Rows) => tensor(rows, { dtype: "int64" });

test("bert: hidden states and pooler match Python within 1e-4 (mask, token types, padded row)", async () => {
  const g = loadGolden("bert");
  const m = await AutoModel.fromPretrained(`${HF_TINY}models/bert`);
  assert.ok(m instanceof BertModel);
  const out = m.forward({
    inputIds: ids(g.json.input_ids as Rows),
    attentionMask: ids(g.json.attention_mask as Rows),
    tokenTypeIds: ids(g.json.token_type_ids as Rows),
    outputHiddenStates: true,
  });
  assertClose(out.lastHiddenState, g.tensor("last_hidden_state"), "last_hidden_state");
  assertClose(out.poolerOutput as Tensor, g.tensor("pooler_output"), "pooler_output");
  assert.equal(out.hiddenStates?.length, 3);
  out.hiddenStates?.forEach((h, i) => {
    assertClose(h, g.tensor(`hidden_states.${i}`), `hidden_states.${i}`);
  });
  // Defaults: all-ones mask, all-zero token types.
  const row0 = m.forward({ inputIds: ids([(g.json.input_ids as Rows)[0] as number[]]) });
  assertClose(row0.lastHiddenState, g.tensor("row0_only_last_hidden_state"), "row0_only_last_hidden_state");
});

test("bert-seqcls: logits and single-label loss match Python", async () => {
  const g = loadGolden("bert-seqcls");
  const m = await AutoModelForSequenceClassification.fromPretrained(`${HF_TINY}models/bert-seqcls`);
  assert.ok(m instanceof BertForSequenceClassification);
  const out = m.forward({
    inputIds: ids(g.json.input_ids as Rows),
    attentionMask: ids(g.json.attention_mask as Rows),
    tokenTypeIds: ids(g.json.token_type_ids as Rows),
    labels: tensor(g.json.labels as number[], { dtype: "int64" }),
  });
  assertClose(out.logits, g.tensor("logits"), "logits");
  assert.ok(Math.abs((out.loss as Tensor).item() - (g.json.loss as number)) < 1e-5);
  assert.equal(m.label(2), "LABEL_2");
});

test("bert-seqcls: problem_type regression and multi-label give MSE and BCE-with-logits", async () => {
  const m = await BertForSequenceClassification.fromPretrained(`${HF_TINY}models/bert-seqcls`);
  const input = { inputIds: ids([[1, 45, 230, 2]]) };
  const logits = m.forward(input).logits.dataSync() as Float32Array;
  const targets = [1, 0, 1];
  m.config.set("problem_type", "multi_label_classification");
  const bce = m.forward({ ...input, labels: tensor([targets]) }).loss as Tensor;
  let expected = 0;
  logits.forEach((x, i) => {
    const y = targets[i] as number;
    expected += -(y * Math.log(1 / (1 + Math.exp(-x))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-x))));
  });
  assert.ok(Math.abs(bce.item() - expected / 3) < 1e-5);
  m.config.set("problem_type", "regression");
  const mse = m.forward({ ...input, labels: tensor([[0.5, -1, 2]]) }).loss as Tensor;
  const want = [0.5, -1, 2].reduce((s, y, i) => s + ((logits[i] as number) - y) ** 2, 0) / 3;
  assert.ok(Math.abs(mse.item() - want) < 1e-5);
  m.config.set("problem_type", "sideways");
  assert.throws(() => m.forward({ ...input, labels: tensor([1], { dtype: "int64" }) }), {
    code: "HEARTH_MODEL_BAD_INPUT",
  });
  m.config.set("problem_type", null);
  // Inferred: integer labels → cross-entropy.
  const ce = m.forward({ ...input, labels: tensor([1], { dtype: "int64" }) }).loss as Tensor;
  const lse = Math.log([...logits].reduce((s, x) => s + Math.exp(x), 0));
  assert.ok(Math.abs(ce.item() - (lse - (logits[1] as number))) < 1e-5);
});

test("bert: masked-LM and token-classification heads load the base checkpoint's encoder", async () => {
  manualSeed(0);
  const dir = await mkdtemp(join(tmpdir(), "hearth-bert-"));
  try {
    const config = await BertConfig.fromPretrained(`${HF_TINY}models/bert`);
    const mlm = new BertForMaskedLM(config).eval();
    const base = await BertModel.fromPretrained(`${HF_TINY}models/bert`);
    // Same encoder weights as the golden model, random head: save and reload through the Auto class.
    for (const [name, t] of Object.entries(base.stateDict())) {
      if (!name.startsWith("pooler.")) mlm.bert.stateDict()[name]?.copy_(t);
    }
    await mlm.savePretrained(dir);
    const again = await AutoModelForMaskedLM.fromPretrained(dir);
    assert.ok(again instanceof BertForMaskedLM);
    assert.equal(again.stateDict()["cls.predictions.decoder.weight"], again.bert.embeddings.word_embeddings.weight);
    const input = { inputIds: ids([[1, 45, 3, 2]]), labels: ids([[-100, 45, -100, -100]]) };
    const a = mlm.forward(input);
    const b = again.forward(input);
    assert.deepEqual(a.logits.shape, [1, 4, 1000]);
    assertClose(b.logits, a.logits.dataSync() as Float32Array, "reloaded MLM logits");
    const row = (a.logits.dataSync() as Float32Array).subarray(1000, 2000);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    assert.ok(Math.abs((a.loss as Tensor).item() - (lse - (row[45] as number))) < 1e-4);

    const tok = new BertForTokenClassification(config.clone({ id2label: { 0: "O", 1: "B-PER" } }));
    await tok.savePretrained(dir);
    const tok2 = await AutoModelForTokenClassification.fromPretrained(dir);
    const out = tok2.forward({ inputIds: ids([[1, 5, 6, 2]]), labels: ids([[-100, 0, 1, -100]]) }) as {
      logits: Tensor;
      loss: Tensor;
    };
    assert.deepEqual(out.logits.shape, [1, 4, 2]);
    assert.ok(Number.isFinite(out.loss.item()));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bert: bad inputs name the argument", async () => {
  const m = await BertModel.fromPretrained(`${HF_TINY}models/bert`);
  assert.throws(() => m.forward({ inputIds: tensor([[1.5]]) }), { code: "HEARTH_MODEL_BAD_INPUT" });
  assert.throws(() => m.forward({ inputIds: ids([[1, 2]]), attentionMask: ids([[1, 1, 1]]) }), /attentionMask/);
  assert.throws(() => m.forward({ inputIds: ids([new Array(65).fill(1)]) }), /max_position_embeddings/);
});
