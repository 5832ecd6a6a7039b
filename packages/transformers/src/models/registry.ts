/**
 * The model families Hearth implements, by `model_type`: exactly one entry per family. Adding
 * a family means a folder under `models/` and one line here.
 */
import { bertFamily } from "./bert/index.ts";
import { distilbertFamily } from "./distilbert/index.ts";
import { gpt2Family } from "./gpt2/index.ts";
import { llamaFamily } from "./llama/index.ts";
import { mistralFamily } from "./mistral/index.ts";
import { qwen2Family } from "./qwen2/index.ts";
import type { ModelFamily } from "./registry-types.ts";
import { robertaFamily } from "./roberta/index.ts";
import { vitFamily } from "./vit/index.ts";
import { whisperFamily } from "./whisper/index.ts";

export type { ModelFamily, ProcessorClass, TaskName } from "./registry-types.ts";

/** `model_type` → family. */
export const MODEL_FAMILIES: Readonly<Record<string, ModelFamily>> = {
  bert: bertFamily,
  distilbert: distilbertFamily,
  gpt2: gpt2Family,
  llama: llamaFamily,
  mistral: mistralFamily,
  qwen2: qwen2Family,
  roberta: robertaFamily,
  vit: vitFamily,
  whisper: whisperFamily,
};
