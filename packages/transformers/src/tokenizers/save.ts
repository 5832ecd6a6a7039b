/** Writing a tokenizer back to disk in the files the Python stack reads. */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, fail } from "../errors.ts";
import { ranksToMerges } from "./io/legacy.ts";
import type { AddedTokenSpec } from "./pipeline/added-tokens.ts";
import type { Json } from "./pipeline/normalizers.ts";
import { llamaTokenizerJson } from "./sentencepiece/convert.ts";
import type { SpModelProto } from "./sentencepiece/proto.ts";
import { SPECIAL_TOKEN_KEYS, VERY_LARGE_INTEGER } from "./special-tokens.ts";
import type { PreTrainedTokenizer } from "./tokenizer.ts";

/** Where a tokenizer's vocabulary came from. */
export type TokenizerSource =
  | { kind: "tokenizer.json"; json: Json }
  | { kind: "gpt2"; json: Json }
  | { kind: "bert"; json: Json }
  | { kind: "sentencepiece"; bytes: Uint8Array; legacy: boolean; proto: SpModelProto; addBos: boolean; addEos: boolean }
  | { kind: "tiktoken"; ranks: Map<string, number>; pattern: string };

const DEFAULT_CLASS: Record<TokenizerSource["kind"], string> = {
  "tokenizer.json": "PreTrainedTokenizerFast",
  gpt2: "GPT2Tokenizer",
  bert: "BertTokenizer",
  sentencepiece: "LlamaTokenizer",
  tiktoken: "PreTrainedTokenizerFast",
};

/** JSON as Python writes it (2-space indent, huge integers kept integral). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/: 1e\+30\b/g, ": 1000000000000000019884624838656")}\n`;
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fail(ErrorCodes.TOKENIZER_SAVE_FAILED, `saveTokenizer: could not write ${path}: ${(e as Error).message}`, e);
  }
}

function addedTokenJson(t: AddedTokenSpec): Json {
  return {
    content: t.content,
    lstrip: t.lstrip,
    normalized: t.normalized,
    rstrip: t.rstrip,
    single_word: t.single_word,
    special: t.special,
  };
}

function withAddedTokens(json: Json, added: AddedTokenSpec[]): Json {
  const list = [...added]
    .sort((a, b) => a.id - b.id)
    .map((t) => ({
      id: t.id,
      content: t.content,
      single_word: t.single_word,
      lstrip: t.lstrip,
      rstrip: t.rstrip,
      normalized: t.normalized,
      special: t.special,
    }));
  return { ...json, added_tokens: list };
}

function tiktokenJson(ranks: Map<string, number>, pattern: string, added: AddedTokenSpec[]): Json {
  return withAddedTokens(
    {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: {
        type: "Sequence",
        pretokenizers: [
          { type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false },
          { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      },
      post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(ranks),
        merges: ranksToMerges(ranks),
      },
    },
    added,
  );
}

/** Write tokenizer files to `dir`; returns the paths written. */
export async function saveTokenizerFiles(tok: PreTrainedTokenizer, dir: string): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw fail(
      ErrorCodes.TOKENIZER_SAVE_FAILED,
      `saveTokenizer: cannot create folder ${dir}: ${(e as Error).message}`,
      e,
    );
  }
  const written: string[] = [];
  const put = async (name: string, data: string | Uint8Array) => {
    const p = join(dir, name);
    await writeAtomic(p, data);
    written.push(p);
  };
  const added = tok.pipeline.addedTokens;
  const src = tok.source;
  if (src.kind === "tokenizer.json" || src.kind === "gpt2" || src.kind === "bert") {
    await put("tokenizer.json", toJson(withAddedTokens(src.json, added)));
  }
  if (src.kind === "tiktoken") await put("tokenizer.json", toJson(tiktokenJson(src.ranks, src.pattern, added)));
  if (src.kind === "gpt2") {
    const model = src.json.model as Json;
    await put("vocab.json", `${JSON.stringify(model.vocab)}\n`);
    await put("merges.txt", `#version: 0.2\n${(model.merges as string[]).join("\n")}\n`);
  }
  if (src.kind === "bert") {
    const vocab = (src.json.model as Json).vocab as Record<string, number>;
    const lines: string[] = [];
    for (const [t, id] of Object.entries(vocab)) lines[id] = t;
    await put("vocab.txt", `${lines.join("\n")}\n`);
  }
  if (src.kind === "sentencepiece") {
    await put("tokenizer.model", src.bytes);
    // BPE models also get the tokenizer.json transformers' LlamaConverter would write.
    if (src.proto.modelType === 2) {
      const json = llamaTokenizerJson(src.proto, { legacy: src.legacy, addBos: src.addBos, addEos: src.addEos });
      await put("tokenizer.json", toJson(withAddedTokens(json, added)));
    }
  }

  const addedById = new Map(added.map((t) => [t.content, t]));
  const special: Json = {};
  for (const k of SPECIAL_TOKEN_KEYS) {
    const t = tok.specialTokens[k];
    if (t === undefined) continue;
    const a = addedById.get(t);
    special[k] = a
      ? { content: t, lstrip: a.lstrip, normalized: a.normalized, rstrip: a.rstrip, single_word: a.single_word }
      : t;
  }
  if (tok.additionalSpecialTokens.length) special.additional_special_tokens = tok.additionalSpecialTokens;

  const config: Json = { ...tok.config };
  const decoderMap: Json = {};
  for (const t of [...added].sort((a, b) => a.id - b.id)) decoderMap[String(t.id)] = addedTokenJson(t);
  config.added_tokens_decoder = decoderMap;
  for (const k of SPECIAL_TOKEN_KEYS) {
    if (tok.specialTokens[k] !== undefined) config[k] = tok.specialTokens[k];
  }
  if (tok.additionalSpecialTokens.length) config.additional_special_tokens = tok.additionalSpecialTokens;
  config.clean_up_tokenization_spaces = tok.cleanUpTokenizationSpaces;
  config.model_max_length = Math.min(tok.modelMaxLength, VERY_LARGE_INTEGER);
  config.padding_side = tok.paddingSide;
  config.truncation_side = tok.truncationSide;
  config.model_input_names = tok.modelInputNames;
  if (src.kind === "sentencepiece") {
    config.legacy = src.legacy;
    config.add_bos_token = src.addBos;
    config.add_eos_token = src.addEos;
  }
  config.tokenizer_class ??= DEFAULT_CLASS[src.kind];
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await put("tokenizer_config.json", toJson(sorted));
  await put("special_tokens_map.json", toJson(special));
  return written;
}
