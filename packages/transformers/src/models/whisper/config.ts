/** `WhisperConfig`: the keys of a Whisper `config.json`, with Python's defaults (whisper-tiny). */
import { PretrainedConfig } from "../../configuration/pretrained-config.ts";

/**
 * Whisper's configuration.
 *
 * @example
 * const config = new WhisperConfig({ d_model: 64, encoder_layers: 2, decoder_layers: 2 });
 */
export class WhisperConfig extends PretrainedConfig {
  static override readonly modelType: string = "whisper";
  static override readonly defaults: Record<string, unknown> = {
    vocab_size: 51865,
    num_mel_bins: 80,
    encoder_layers: 4,
    encoder_attention_heads: 6,
    decoder_layers: 4,
    decoder_attention_heads: 6,
    decoder_ffn_dim: 1536,
    encoder_ffn_dim: 1536,
    encoder_layerdrop: 0.0,
    decoder_layerdrop: 0.0,
    decoder_start_token_id: 50257,
    use_cache: true,
    is_encoder_decoder: true,
    activation_function: "gelu",
    d_model: 384,
    dropout: 0.0,
    attention_dropout: 0.0,
    activation_dropout: 0.0,
    init_std: 0.02,
    scale_embedding: false,
    max_source_positions: 1500,
    max_target_positions: 448,
    pad_token_id: 50256,
    bos_token_id: 50256,
    eos_token_id: 50256,
    suppress_tokens: null,
    begin_suppress_tokens: [220, 50256],
    tie_word_embeddings: true,
  };

  declare vocab_size: number;
  declare num_mel_bins: number;
  declare encoder_layers: number;
  declare encoder_attention_heads: number;
  declare decoder_layers: number;
  declare decoder_attention_heads: number;
  declare decoder_ffn_dim: number;
  declare encoder_ffn_dim: number;
  declare decoder_start_token_id: number;
  declare activation_function: string;
  declare d_model: number;
  declare dropout: number;
  declare attention_dropout: number;
  declare activation_dropout: number;
  declare init_std: number;
  declare scale_embedding: boolean;
  declare max_source_positions: number;
  declare max_target_positions: number;
  declare suppress_tokens: number[] | null;
  declare begin_suppress_tokens: number[] | null;
}
