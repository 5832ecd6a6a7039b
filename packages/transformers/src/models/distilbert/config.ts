/** `DistilBertConfig`: the keys of a DistilBERT `config.json` (its own names: dim, n_layers, …), with Python's defaults. */
import { PretrainedConfig } from "../../configuration/pretrained-config.ts";

/**
 * DistilBERT's configuration.
 *
 * @example
 * const config = new DistilBertConfig({ dim: 64, n_layers: 2, n_heads: 4, hidden_dim: 128 });
 */
export class DistilBertConfig extends PretrainedConfig {
  static override readonly modelType: string = "distilbert";
  static override readonly defaults: Record<string, unknown> = {
    vocab_size: 30522,
    max_position_embeddings: 512,
    sinusoidal_pos_embds: false,
    n_layers: 6,
    n_heads: 12,
    dim: 768,
    hidden_dim: 3072,
    dropout: 0.1,
    attention_dropout: 0.1,
    activation: "gelu",
    initializer_range: 0.02,
    qa_dropout: 0.1,
    seq_classif_dropout: 0.2,
    pad_token_id: 0,
    tie_word_embeddings: true,
  };

  declare vocab_size: number;
  declare max_position_embeddings: number;
  declare sinusoidal_pos_embds: boolean;
  declare n_layers: number;
  declare n_heads: number;
  declare dim: number;
  declare hidden_dim: number;
  declare dropout: number;
  declare attention_dropout: number;
  declare activation: string;
  declare seq_classif_dropout: number;
  declare problem_type?: string | null;
}
