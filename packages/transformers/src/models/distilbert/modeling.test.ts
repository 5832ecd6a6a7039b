import assert from "node:assert/strict";
import { test } from "node:test";
import { setBackend, type Tensor, tensor } from "@hearth/tensor";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import { BertModel } from "../bert/modeling.ts";
import {
  DistilBertConfig,
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertModel,
} from "./index.ts";

setBackend("js");

// No DistilBERT golden exists, but DistilBERT is BERT without token types under other names:
// given the BERT golden model's weights renamed, it must reproduce BERT's outputs.
const g = loadGolden("bert");
type Rows = number[][];
const ids = (rows: Rows) => tensor(rows, { dtype: "int64" });

test("distilbert: BERT's weights renamed (token type 0 folded into positions) reproduce BERT", async () => {
  const bert = await BertModel.fromPretrained(`${HF_TINY}models/bert`);
  const c = bert.config;
  const config = new DistilBertConfig({
    vocab_size: c.vocab_size,
    dim: c.hidden_size,
    n_layers: c.num_hidden_layers,
    n_heads: c.num_attention_heads,
    hidden_dim: c.intermediate_size,
    max_position_embeddings: c.max_position_embeddings,
  });
  const model = new DistilBertModel(config).eval();
  const sd = bert.stateDict();
  const type0 = (sd["embeddings.token_type_embeddings.weight"] as Tensor).narrow(0, 0, 1);
  const state: Record<string, Tensor> = {
    "embeddings.word_embeddings.weight": sd["embeddings.word_embeddings.weight"] as Tensor,
    "embeddings.position_embeddings.weight": (sd["embeddings.position_embeddings.weight"] as Tensor).add(type0),
    "embeddings.LayerNorm.weight": sd["embeddings.LayerNorm.weight"] as Tensor,
    "embeddings.LayerNorm.bias": sd["embeddings.LayerNorm.bias"] as Tensor,
  };
  const names: Record<string, string> = {
    "attention.q_lin": "attention.self.query",
    "attention.k_lin": "attention.self.key",
    "attention.v_lin": "attention.self.value",
    "attention.out_lin": "attention.output.dense",
    sa_layer_norm: "attention.output.LayerNorm",
    "ffn.lin1": "intermediate.dense",
    "ffn.lin2": "output.dense",
    output_layer_norm: "output.LayerNorm",
  };
  for (let l = 0; l < 2; l++) {
    for (const [d, b] of Object.entries(names)) {
      for (const p of ["weight", "bias"])
        state[`transformer.layer.${l}.${d}.${p}`] = sd[`encoder.layer.${l}.${b}.${p}`] as Tensor;
    }
  }
  model.loadStateDict(state);
  const row0 = model.forward({ inputIds: ids([(g.json.input_ids as Rows)[0] as number[]]) });
  assertClose(row0.lastHiddenState, g.tensor("row0_only_last_hidden_state"), "distilbert = bert (types 0)");
  // Row 1 of the batch has token types 0 and padding: equal where the mask is 1.
  const batch = model.forward({
    inputIds: ids(g.json.input_ids as Rows),
    attentionMask: ids(g.json.attention_mask as Rows),
  });
  const mask = (g.json.attention_mask as Rows).flat();
  assertClose(
    batch.lastHiddenState,
    g.tensor("last_hidden_state"),
    "padded row",
    1e-4,
    (i) => i >= 8 * 64 && mask[Math.floor(i / 64)] === 1,
  );

  const mlm = new DistilBertForMaskedLM(config).eval();
  assert.equal(mlm.stateDict()["vocab_projector.weight"], mlm.distilbert.embeddings.word_embeddings.weight);
  assert.deepEqual(mlm.forward({ inputIds: ids([[1, 2, 3]]) }).logits.shape, [1, 3, 1000]);
  const clf = new DistilBertForSequenceClassification(config).eval();
  const out = clf.forward({ inputIds: ids([[1, 2, 3]]), labels: tensor([1], { dtype: "int64" }) });
  assert.ok(Number.isFinite((out.loss as Tensor).item()));
});
