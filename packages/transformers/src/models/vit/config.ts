/** `ViTConfig`: the keys of a ViT `config.json`, with Python's defaults (ViT-base, 224 px, patch 16). */
import { PretrainedConfig } from "../../configuration/pretrained-config.ts";

/**
 * ViT's configuration.
 *
 * @example
 * const config = new ViTConfig({ image_size: 32, patch_size: 8, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4 });
 */
export class ViTConfig extends PretrainedConfig {
  static override readonly modelType: string = "vit";
  static override readonly defaults: Record<string, unknown> = {
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.0,
    attention_probs_dropout_prob: 0.0,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    image_size: 224,
    patch_size: 16,
    num_channels: 3,
    qkv_bias: true,
    encoder_stride: 16,
  };

  declare hidden_size: number;
  declare num_hidden_layers: number;
  declare num_attention_heads: number;
  declare intermediate_size: number;
  declare hidden_act: string;
  declare hidden_dropout_prob: number;
  declare attention_probs_dropout_prob: number;
  declare initializer_range: number;
  declare layer_norm_eps: number;
  declare image_size: number;
  declare patch_size: number;
  declare num_channels: number;
  declare qkv_bias: boolean;
  declare problem_type?: string | null;
}
