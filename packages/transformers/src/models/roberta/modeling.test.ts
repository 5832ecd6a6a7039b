import assert from "node:assert/strict";
import { test } from "node:test";
import { cat, setBackend, type Tensor, tensor } from "@hearth/tensor";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import { BertModel } from "../bert/modeling.ts";
import { RobertaConfig, RobertaForSequenceClassification, RobertaModel, robertaPositions } from "./index.ts";

setBackend("js");

// No RoBERTa golden exists, but RoBERTa is BERT with other positions: given the BERT golden
// model's weights with the position table shifted, it must reproduce BERT's outputs.
const g = loadGolden("bert");
type Rows = number[][];
const ids = (rows: Rows) => tensor(rows, { dtype: "int64" });

test("robertaPositions counts from pad + 1 over non-padding tokens", () => {
  assert.deepEqual(robertaPositions(ids([[0, 5, 6, 1, 1]]), 1).tolistSync(), [[2, 3, 4, 1, 1]]);
});

test("roberta: BERT's weights with positions shifted by one reproduce BERT's hidden states", async () => {
  const bert = await BertModel.fromPretrained(`${HF_TINY}models/bert`);
  const config = new RobertaConfig({
    ...bert.config.toDict(),
    model_type: "roberta",
    pad_token_id: 0,
    max_position_embeddings: 65,
  });
  const roberta = new RobertaModel(config).eval();
  const sd = bert.stateDict();
  const pos = sd["embeddings.position_embeddings.weight"] as Tensor;
  roberta.loadStateDict({
    ...sd,
    "embeddings.position_embeddings.weight": cat([tensor(new Float32Array(64), { shape: [1, 64] }), pos], 0),
  });
  const out = roberta.forward({
    inputIds: ids(g.json.input_ids as Rows),
    attentionMask: ids(g.json.attention_mask as Rows),
    tokenTypeIds: ids(g.json.token_type_ids as Rows),
  });
  const mask = (g.json.attention_mask as Rows).flat();
  assertClose(
    out.lastHiddenState,
    g.tensor("last_hidden_state"),
    "roberta = bert where the mask is 1",
    1e-4,
    (i) => mask[Math.floor(i / 64)] === 1,
  );
  assertClose(out.poolerOutput as Tensor, g.tensor("pooler_output"), "pooler");
  const clf = new RobertaForSequenceClassification(config.clone({ id2label: { 0: "neg", 1: "pos" } })).eval();
  const logits = clf.forward({ inputIds: ids([[5, 6, 7]]), labels: tensor([1], { dtype: "int64" }) });
  assert.deepEqual(logits.logits.shape, [1, 2]);
  assert.equal(clf.label(1), "pos");
});
