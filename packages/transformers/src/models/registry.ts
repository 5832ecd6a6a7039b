/**
 * The model families Hearth implements, by `model_type`: exactly one entry per family. Adding
 * a family means a folder under `models/` and one line here.
 */
import { gpt2Family } from "./gpt2/index.ts";
import { llamaFamily } from "./llama/index.ts";
import { mistralFamily } from "./mistral/index.ts";
import { qwen2Family } from "./qwen2/index.ts";
import type { ModelFamily } from "./registry-types.ts";

export type { ModelFamily, TaskName } from "./registry-types.ts";

/** `model_type` → family. */
export const MODEL_FAMILIES: Readonly<Record<string, ModelFamily>> = {
  gpt2: gpt2Family,
  llama: llamaFamily,
  mistral: mistralFamily,
  qwen2: qwen2Family,
};
