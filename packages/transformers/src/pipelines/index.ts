/** `pipeline(task, model)`: the one-line entry point, as Python's `transformers.pipeline`. */
import { ErrorCodes, fail } from "../errors.ts";
import type {
  FromPretrainedOptions,
  PreTrainedModel,
  PreTrainedModelForCausalLM,
} from "../modeling/pretrained-model.ts";
import {
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForImageClassification,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  AutoModelForSpeechSeq2Seq,
  AutoModelForTokenClassification,
} from "../models/auto.ts";
import type { WhisperFeatureExtractor } from "../models/whisper/feature-extraction.ts";
import type { WhisperForConditionalGeneration } from "../models/whisper/modeling.ts";
import { AutoFeatureExtractor, AutoImageProcessor } from "../processors/auto.ts";
import type { ImageProcessor } from "../processors/image-processor.ts";
import { AutoTokenizer } from "../tokenizers/auto.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { AutomaticSpeechRecognitionPipeline } from "./automatic-speech-recognition.ts";
import { type EncoderModel, FeatureExtractionPipeline } from "./feature-extraction.ts";
import { FillMaskPipeline } from "./fill-mask.ts";
import { ImageClassificationPipeline, type ImageClassifierModel } from "./image-classification.ts";
import type { TextClassifierModel } from "./shared.ts";
import { TextClassificationPipeline } from "./text-classification.ts";
import { TextGenerationPipeline } from "./text-generation.ts";
import { TokenClassificationPipeline } from "./token-classification.ts";
import { ZeroShotClassificationPipeline } from "./zero-shot-classification.ts";

export {
  type AsrInput,
  type AsrOptions,
  type AsrOutput,
  AutomaticSpeechRecognitionPipeline,
} from "./automatic-speech-recognition.ts";
export { type EncoderModel, type FeatureExtractionOptions, FeatureExtractionPipeline } from "./feature-extraction.ts";
export { type FillMaskOutput, FillMaskPipeline } from "./fill-mask.ts";
export { ImageClassificationPipeline, type ImageClassifierModel } from "./image-classification.ts";
export { softmax, type TextClassifierModel, topIndices } from "./shared.ts";
export {
  type ClassificationOutput,
  type TextClassificationOptions,
  TextClassificationPipeline,
} from "./text-classification.ts";
export { type TextGenerationOptions, type TextGenerationOutput, TextGenerationPipeline } from "./text-generation.ts";
export {
  type AggregationStrategy,
  aggregate,
  type PreEntity,
  TokenClassificationPipeline,
  type TokenEntity,
} from "./token-classification.ts";
export { ZeroShotClassificationPipeline, type ZeroShotOutput } from "./zero-shot-classification.ts";

/** The tasks `pipeline` knows. */
export const PIPELINE_TASKS = [
  "text-generation",
  "fill-mask",
  "text-classification",
  "sentiment-analysis",
  "token-classification",
  "ner",
  "feature-extraction",
  "zero-shot-classification",
  "image-classification",
  "automatic-speech-recognition",
] as const;

/** A task name. */
export type PipelineTask = (typeof PIPELINE_TASKS)[number];

/** Options of `pipeline`: loading options plus the pre-processing pieces to use instead of the model folder's. */
export interface PipelineOptions extends FromPretrainedOptions {
  tokenizer?: string | PreTrainedTokenizer;
  imageProcessor?: string | ImageProcessor;
  featureExtractor?: string | WhisperFeatureExtractor;
}

type TaskPipelines = {
  "text-generation": TextGenerationPipeline;
  "fill-mask": FillMaskPipeline;
  "text-classification": TextClassificationPipeline;
  "sentiment-analysis": TextClassificationPipeline;
  "token-classification": TokenClassificationPipeline;
  ner: TokenClassificationPipeline;
  "feature-extraction": FeatureExtractionPipeline;
  "zero-shot-classification": ZeroShotClassificationPipeline;
  "image-classification": ImageClassificationPipeline;
  "automatic-speech-recognition": AutomaticSpeechRecognitionPipeline;
};

const AUTO = {
  "text-generation": AutoModelForCausalLM,
  "fill-mask": AutoModelForMaskedLM,
  "text-classification": AutoModelForSequenceClassification,
  "sentiment-analysis": AutoModelForSequenceClassification,
  "token-classification": AutoModelForTokenClassification,
  ner: AutoModelForTokenClassification,
  "feature-extraction": AutoModel,
  "zero-shot-classification": AutoModelForSequenceClassification,
  "image-classification": AutoModelForImageClassification,
  "automatic-speech-recognition": AutoModelForSpeechSeq2Seq,
} as const;

/**
 * Builds a pipeline. `model` is a loaded model or a folder/repository id; the tokenizer,
 * image processor or feature extractor is then loaded from the same place unless given.
 *
 * @example
 * const generator = await pipeline("text-generation", "path/to/model");
 * const [out] = await generator.call("Once upon a time", { maxNewTokens: 30 });
 * const classifier = await pipeline("text-classification", "path/to/bert-sst2");
 * const asr = await pipeline("automatic-speech-recognition", "path/to/whisper-tiny");
 */
export async function pipeline<T extends PipelineTask>(
  task: T,
  model: string | PreTrainedModel,
  options: PipelineOptions = {},
): Promise<TaskPipelines[T]> {
  if (!(PIPELINE_TASKS as readonly string[]).includes(task)) {
    throw fail(
      ErrorCodes.PIPELINE_BAD_INPUT,
      `pipeline: unknown task '${String(task)}'; supported: ${PIPELINE_TASKS.join(", ")}`,
    );
  }
  const { tokenizer, imageProcessor, featureExtractor, ...loadOptions } = options;
  const m = typeof model === "string" ? await AUTO[task].fromPretrained(model, loadOptions) : model;
  const source = (what: string) => {
    if (typeof model !== "string") {
      throw fail(ErrorCodes.PIPELINE_BAD_INPUT, `pipeline: pass { ${what} } when 'model' is an already loaded model`);
    }
    return model;
  };
  const tok = async (): Promise<PreTrainedTokenizer> => {
    const t = tokenizer ?? source("tokenizer");
    return typeof t === "string" ? AutoTokenizer.fromPretrained(t) : t;
  };
  let out: unknown;
  switch (task) {
    case "text-generation":
      out = new TextGenerationPipeline(m as PreTrainedModelForCausalLM, await tok());
      break;
    case "fill-mask":
      out = new FillMaskPipeline(m as unknown as TextClassifierModel, await tok());
      break;
    case "text-classification":
    case "sentiment-analysis":
      out = new TextClassificationPipeline(m as unknown as TextClassifierModel, await tok());
      break;
    case "token-classification":
    case "ner":
      out = new TokenClassificationPipeline(m as unknown as TextClassifierModel, await tok());
      break;
    case "feature-extraction":
      out = new FeatureExtractionPipeline(m as unknown as EncoderModel, await tok());
      break;
    case "zero-shot-classification":
      out = new ZeroShotClassificationPipeline(m as unknown as TextClassifierModel, await tok());
      break;
    case "image-classification": {
      const p = imageProcessor ?? source("imageProcessor");
      out = new ImageClassificationPipeline(
        m as unknown as ImageClassifierModel,
        typeof p === "string" ? await AutoImageProcessor.fromPretrained(p) : p,
      );
      break;
    }
    case "automatic-speech-recognition": {
      const f = featureExtractor ?? source("featureExtractor");
      let t: PreTrainedTokenizer | null = null;
      if (tokenizer !== undefined || typeof model === "string") {
        try {
          t = await tok();
        } catch {
          // No tokenizer files: transcribe to token ids only.
          t = null;
        }
      }
      out = new AutomaticSpeechRecognitionPipeline(
        m as WhisperForConditionalGeneration,
        typeof f === "string" ? await AutoFeatureExtractor.fromPretrained(f) : f,
        t,
      );
      break;
    }
  }
  return out as TaskPipelines[T];
}
