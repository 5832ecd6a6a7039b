/** `RobertaConfig`: BERT's keys with RoBERTa's defaults (roberta-base). */
import { BertConfig } from "../bert/config.ts";

/**
 * RoBERTa's configuration: BERT's, with pad id 1 (positions start after it), 514 positions,
 * one token type and LayerNorm eps 1e-5.
 *
 * @example
 * const config = new RobertaConfig({ num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4 });
 */
export class RobertaConfig extends BertConfig {
  static override readonly modelType: string = "roberta";
  static override readonly defaults: Record<string, unknown> = {
    ...BertConfig.defaults,
    vocab_size: 50265,
    max_position_embeddings: 514,
    type_vocab_size: 1,
    layer_norm_eps: 1e-5,
    pad_token_id: 1,
    bos_token_id: 0,
    eos_token_id: 2,
  };
}
