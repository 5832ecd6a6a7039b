/**
 * GPT-2's `_init_weights`: the shared rule (N(0, initializer_range²) weights and embeddings,
 * zero biases, unit LayerNorms), with the residual output projections (`attn.c_proj`,
 * `mlp.c_proj`) drawn with std initializer_range/√(2·n_layer), as the GPT-2 paper scales the
 * weights of residual layers.
 */
import { normal_, registerInitRule, standardInit } from "../../modeling/init-weights.ts";
import { Conv1D } from "../../modeling/layers.ts";
import type { GPT2Config } from "./config.ts";

registerInitRule("gpt2", (m, name, config) => {
  standardInit(m, config);
  if (m instanceof Conv1D && (name === "c_proj" || name.endsWith(".c_proj"))) {
    const c = config as GPT2Config;
    normal_(m.weight, c.initializer_range / Math.sqrt(2 * c.n_layer));
  }
});
