/**
 * The text-generation pipeline, as Python's `TextGenerationPipeline`: text in, text out;
 * chat messages go through the tokenizer's chat template and come back with the assistant's
 * reply appended. Several prompts are batched with left padding.
 */
import { tensor } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import type { GenerateOptions } from "../generation/generate.ts";
import type { PreTrainedModelForCausalLM } from "../modeling/pretrained-model.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import type { ChatMessage } from "../tokenizers/types.ts";

/** Options of one call: generation options plus Python's pipeline switches. */
export interface TextGenerationOptions extends Omit<GenerateOptions, "attentionMask" | "tokenizer"> {
  /** Include the prompt in `generated_text` (default true for text; chats always return the conversation). */
  returnFullText?: boolean;
}

/** One result. */
export interface TextGenerationOutput {
  generated_text: string | ChatMessage[];
}

type Input = string | ChatMessage[];

function isChat(x: unknown): x is ChatMessage[] {
  return Array.isArray(x) && x.length > 0 && x.every((m) => m && typeof m === "object" && "role" in m);
}

/** A callable text-generation pipeline. */
export class TextGenerationPipeline {
  constructor(
    readonly model: PreTrainedModelForCausalLM,
    readonly tokenizer: PreTrainedTokenizer,
  ) {}

  /**
   * Generates for one prompt (text or chat) or a list of them.
   *
   * @example
   * const [out] = await generator([{ role: "user", content: "Hi!" }], { maxNewTokens: 20 });
   * console.log(out.generated_text.at(-1)); // { role: "assistant", content: "…" }
   */
  async call(input: Input, options?: TextGenerationOptions): Promise<TextGenerationOutput[]>;
  async call(input: Input[], options?: TextGenerationOptions): Promise<TextGenerationOutput[][]>;
  async call(
    input: Input | Input[],
    options: TextGenerationOptions = {},
  ): Promise<TextGenerationOutput[] | TextGenerationOutput[][]> {
    const single = typeof input === "string" || isChat(input);
    const inputs = (single ? [input] : input) as Input[];
    if (!inputs.every((x) => typeof x === "string" || isChat(x))) {
      throw fail(
        ErrorCodes.PIPELINE_BAD_INPUT,
        "text-generation: inputs must be strings or chat messages [{role, content}]",
      );
    }
    const { returnFullText = true, ...gen } = options;
    const prompts = inputs.map((x) =>
      typeof x === "string"
        ? this.tokenizer.encode(x)
        : (this.tokenizer.applyChatTemplate(x, { addGenerationPrompt: true }) as number[]),
    );
    const pad =
      this.tokenizer.padTokenId ?? this.tokenizer.eosTokenId ?? this.model.generationConfig.eosTokenIds()[0] ?? 0;
    const L = Math.max(...prompts.map((p) => p.length));
    const ids = prompts.map((p) => [...new Array<number>(L - p.length).fill(pad), ...p]);
    const mask = prompts.map((p) => [
      ...new Array<number>(L - p.length).fill(0),
      ...new Array<number>(p.length).fill(1),
    ]);
    const n = gen.numReturnSequences ?? 1;
    const out = await this.model.generate(tensor(ids, { dtype: "int64" }), {
      padTokenId: pad,
      ...gen,
      attentionMask: tensor(mask, { dtype: "int64" }),
      tokenizer: this.tokenizer,
    });
    const rows = out.tolistSync() as number[][];
    const eos = new Set(this.model.generationConfig.update(gen).eosTokenIds());
    const results = inputs.map((x, i) =>
      rows.slice(i * n, (i + 1) * n).map((row): TextGenerationOutput => {
        const fresh = row.slice(L).filter((t, k, all) => !(t === pad && all.slice(0, k).some((u) => eos.has(u))));
        const text = this.tokenizer.decode(fresh, { skipSpecialTokens: true });
        if (typeof x !== "string") return { generated_text: [...x, { role: "assistant", content: text }] };
        return { generated_text: returnFullText ? x + text : text };
      }),
    );
    return single ? (results[0] as TextGenerationOutput[]) : results;
  }
}
