export { WhisperConfig } from "./config.ts";
export { type AudioInput, WhisperFeatureExtractor, type WhisperFeatureOptions } from "./feature-extraction.ts";
export {
  splitSegments,
  timestampProcessor,
  type WhisperGenerateOptions,
  type WhisperGenerationSettings,
  type WhisperLongFormOutput,
  type WhisperSegment,
  whisperGenerate,
  whisperGenerateLongForm,
  whisperSettings,
} from "./generation.ts";
export {
  CrossAttentionCache,
  repeatRows,
  shiftTokensRight,
  WhisperAttention,
  WhisperDecoder,
  type WhisperDecoderInput,
  WhisperDecoderLayer,
  type WhisperDecoderOutput,
  WhisperEncoder,
  WhisperEncoderLayer,
  type WhisperEncoderOutput,
  WhisperForConditionalGeneration,
  type WhisperInput,
  WhisperModel,
  type WhisperOutput,
} from "./modeling.ts";
export { WHISPER_TIED_WEIGHTS } from "./weights.ts";

import type { ModelFamily } from "../registry-types.ts";
import { WhisperConfig } from "./config.ts";
import { WhisperFeatureExtractor } from "./feature-extraction.ts";
import { WhisperForConditionalGeneration, WhisperModel } from "./modeling.ts";

/** Whisper's registry entry. */
export const whisperFamily: ModelFamily = {
  modelType: "whisper",
  config: WhisperConfig,
  tasks: { model: WhisperModel, speechSeq2Seq: WhisperForConditionalGeneration },
  processors: { WhisperFeatureExtractor },
};
