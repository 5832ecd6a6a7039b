/**
 * `AutoTokenizer.fromPretrained(dir)`: finds the tokenizer files in a folder and builds the
 * tokenizer Python's `AutoTokenizer` would: `tokenizer.json` first (the fast tokenizer), else
 * SentencePiece `tokenizer.model`, GPT-2 `vocab.json` + `merges.txt`, BERT `vocab.txt`, or a
 * tiktoken rank file; `tokenizer_config.json` and `special_tokens_map.json` add the rest.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ErrorCodes, fail, HearthTransformersError } from "../errors.ts";
import {
  bertJson,
  bosEosTemplate,
  gpt2Json,
  parseMerges,
  parseTiktoken,
  parseVocabTxt,
  sentencePieceParts,
  TIKTOKEN_GPT2_PATTERN,
  tiktokenParts,
} from "./io/legacy.ts";
import type { AddedTokenSpec } from "./pipeline/added-tokens.ts";
import { normalizeAddedToken, Pipeline, type PipelineParts, partsFromJson } from "./pipeline/core.ts";
import { type Json, UnsupportedComponent } from "./pipeline/normalizers.ts";
import type { TokenizerSource } from "./save.ts";
import { llamaSlowDecoder } from "./sentencepiece/decode.ts";
import { parseModelProto, type SpModelProto } from "./sentencepiece/proto.ts";
import { SPECIAL_TOKEN_KEYS, type SpecialTokenKey } from "./special-tokens.ts";
import { type DecodeFn, PreTrainedTokenizer } from "./tokenizer.ts";
import type { TokenizerConfigJson } from "./types.ts";

/** Options of {@link AutoTokenizer.fromPretrained}. */
export interface FromPretrainedOptions {
  /**
   * Python's `use_fast`: with false, a folder holding both tokenizer.json and tokenizer.model is
   * read through SentencePiece (the slow tokenizer's encoding and decoding). Default true.
   */
  useFast?: boolean;
  /** LlamaTokenizer's `legacy` flag for SentencePiece models (default: the config's, else true). */
  legacy?: boolean;
  /** Entries that override tokenizer_config.json (snake_case, as on disk). */
  config?: TokenizerConfigJson;
  /**
   * Actual file names for the standard ones, e.g. `{ "vocab.json": "encoder.json", "merges.txt": "vocab.bpe" }`.
   * A name ending in `.gz` is read gunzipped.
   */
  fileNames?: Record<string, string>;
  /** Special tokens of a tiktoken vocabulary → id (default: `<|endoftext|>` right after the ranks). */
  tiktokenSpecialTokens?: Record<string, number>;
  /** Pre-tokenisation regex of a tiktoken vocabulary (default: GPT-2's). */
  tiktokenPattern?: string;
}

const BASE_INPUT_NAMES = ["input_ids", "token_type_ids", "attention_mask"];
const CAUSAL_INPUT_NAMES = ["input_ids", "attention_mask"];

class Folder {
  constructor(
    readonly dir: string,
    readonly names: Record<string, string>,
  ) {}

  path(name: string): string {
    return join(this.dir, this.names[name] ?? name);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  bytes(name: string): Uint8Array {
    const p = this.path(name);
    let b: Uint8Array;
    try {
      b = readFileSync(p);
    } catch (e) {
      throw fail(
        ErrorCodes.TOKENIZER_FILE_MISSING,
        `AutoTokenizer.fromPretrained: cannot read ${p}: ${(e as Error).message}`,
        e,
      );
    }
    if (p.endsWith(".gz")) {
      try {
        b = gunzipSync(b);
      } catch (e) {
        throw fail(
          ErrorCodes.TOKENIZER_FILE_INVALID,
          `AutoTokenizer.fromPretrained: ${p} is not valid gzip: ${(e as Error).message}`,
          e,
        );
      }
    }
    return b;
  }

  text(name: string): string {
    return new TextDecoder().decode(this.bytes(name));
  }

  json(name: string): Json {
    const t = this.text(name);
    try {
      const v = JSON.parse(t);
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("the top level is not an object");
      return v as Json;
    } catch (e) {
      throw fail(
        ErrorCodes.TOKENIZER_FILE_INVALID,
        `AutoTokenizer.fromPretrained: ${this.path(name)} is not valid JSON: ${(e as Error).message}`,
        e,
      );
    }
  }

  jsonIfPresent(name: string): Json | null {
    return this.has(name) ? this.json(name) : null;
  }

  /** Run a parsing step; turn its failures into coded errors naming the file. */
  step<T>(name: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof HearthTransformersError) throw e;
      if (e instanceof UnsupportedComponent) {
        throw fail(
          ErrorCodes.TOKENIZER_UNSUPPORTED,
          `AutoTokenizer.fromPretrained: ${this.path(name)} uses ${e.message}, which Hearth does not implement`,
          e,
        );
      }
      throw fail(
        ErrorCodes.TOKENIZER_FILE_INVALID,
        `AutoTokenizer.fromPretrained: ${this.path(name)} is malformed: ${(e as Error).message}`,
        e,
      );
    }
  }
}

function tokenContent(v: unknown): string | null | undefined {
  if (v === null) return null;
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return undefined;
}

/** Build `PreTrainedTokenizer`s from folders of tokenizer files. */
export const AutoTokenizer = {
  /**
   * Load the tokenizer in `dir`.
   * @example
   * const tok = await AutoTokenizer.fromPretrained("./llama3");
   * tok.encode("Hello world"); // [9906, 1917]
   */
  async fromPretrained(dir: string, opts: FromPretrainedOptions = {}): Promise<PreTrainedTokenizer> {
    return loadTokenizer(dir, opts);
  },
};

/** Synchronous body of {@link AutoTokenizer.fromPretrained}. */
export function loadTokenizer(dir: string, opts: FromPretrainedOptions = {}): PreTrainedTokenizer {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw fail(
      ErrorCodes.TOKENIZER_FILE_MISSING,
      `AutoTokenizer.fromPretrained: '${dir}' is not a folder; pass a local folder (download hub repos first, e.g. with @hearth/hub's snapshotDownload)`,
    );
  }
  const f = new Folder(dir, opts.fileNames ?? {});
  const config: TokenizerConfigJson = {
    ...((f.jsonIfPresent("tokenizer_config.json") ?? {}) as TokenizerConfigJson),
    ...(opts.config ?? {}),
  };
  const stm = f.jsonIfPresent("special_tokens_map.json") ?? {};
  // Newer transformers versions keep the chat template beside the config.
  if (config.chat_template === undefined) {
    if (f.has("chat_template.jinja")) config.chat_template = f.text("chat_template.jinja");
    else if (f.has("chat_template.json")) {
      const t = f.json("chat_template.json").chat_template;
      if (typeof t === "string" || Array.isArray(t)) config.chat_template = t as TokenizerConfigJson["chat_template"];
    }
  }

  let parts: PipelineParts;
  let source: TokenizerSource;
  let defaults: Partial<Record<SpecialTokenKey, string>> = {};
  let inputNames = BASE_INPUT_NAMES;
  let cleanUp = true;
  let proto: SpModelProto | null = null;
  let legacy = true;

  if (f.has("tokenizer.json") && (opts.useFast !== false || !f.has("tokenizer.model"))) {
    let json = f.json("tokenizer.json");
    // LlamaTokenizerFast and GemmaTokenizerFast rebuild their template from add_bos_token/add_eos_token.
    if (
      /^(Code)?(Llama|Gemma)TokenizerFast$|^(Code)?(Llama|Gemma)Tokenizer$/.test(String(config.tokenizer_class ?? ""))
    ) {
      const vocab = ((json.model as Json | undefined)?.vocab ?? {}) as Record<string, number>;
      const added = (json.added_tokens as Json[] | undefined) ?? [];
      const idOf = (t: string | null | undefined) =>
        t == null
          ? undefined
          : ((added.find((a) => a.content === t)?.id as number | undefined) ??
            (Array.isArray(vocab) ? undefined : vocab[t]));
      const bos = tokenContent(stm.bos_token) ?? tokenContent(config.bos_token);
      const eos = tokenContent(stm.eos_token) ?? tokenContent(config.eos_token);
      const bosId = idOf(bos);
      const eosId = idOf(eos);
      const addBos = config.add_bos_token ?? true;
      const addEos = config.add_eos_token ?? false;
      if ((!addBos || bosId !== undefined) && (!addEos || eosId !== undefined)) {
        json = {
          ...json,
          post_processor: bosEosTemplate(
            addBos ? [bos as string, bosId as number] : null,
            addEos ? [eos as string, eosId as number] : null,
          ),
        };
      }
    }
    const j = json;
    parts = f.step("tokenizer.json", () => partsFromJson(j));
    source = { kind: "tokenizer.json", json };
  } else if (f.has("tokenizer.model")) {
    const bytes = f.bytes("tokenizer.model");
    const p = f.step("tokenizer.model", () => parseModelProto(bytes));
    proto = p;
    legacy = opts.legacy ?? (typeof config.legacy === "boolean" ? config.legacy : true);
    const isT5 = /T5/.test(String(config.tokenizer_class ?? ""));
    const addBos = config.add_bos_token ?? !isT5;
    const addEos = config.add_eos_token ?? isT5;
    parts = f.step("tokenizer.model", () => sentencePieceParts(p, { legacy, addBos, addEos }));
    source = { kind: "sentencepiece", bytes, legacy, proto: p, addBos, addEos };
    const piece = (id: number) => (id >= 0 && id < p.pieces.length ? p.pieces[id].piece : undefined);
    defaults = { unk_token: piece(p.unkId), bos_token: isT5 ? undefined : piece(p.bosId), eos_token: piece(p.eosId) };
    if (p.padId >= 0 && p.padId !== p.unkId) defaults.pad_token = piece(p.padId);
    inputNames = CAUSAL_INPUT_NAMES;
    cleanUp = false;
  } else if (f.has("vocab.json") && f.has("merges.txt")) {
    const vocab = f.json("vocab.json") as Record<string, number>;
    const merges = f.step("merges.txt", () => parseMerges(f.text("merges.txt")));
    // RoBERTa-style classes wrap sequences in <s> ... </s>; GPT-2 adds nothing.
    const roberta = /Roberta|Bart|Longformer/.test(String(config.tokenizer_class ?? ""));
    const tok = (k: SpecialTokenKey, d: string) => tokenContent(stm[k]) ?? tokenContent(config[k]) ?? d;
    const eot = "<|endoftext|>";
    const specials = roberta
      ? (["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] as const).map(
          (k) =>
            tok(
              k,
              {
                bos_token: "<s>",
                eos_token: "</s>",
                unk_token: "<unk>",
                sep_token: "</s>",
                pad_token: "<pad>",
                cls_token: "<s>",
                mask_token: "<mask>",
              }[k],
            ),
        )
      : [eot];
    const json = f.step("vocab.json", () =>
      gpt2Json(vocab, merges, specials, {
        addPrefixSpace: config.add_prefix_space === true,
        roberta: roberta ? { cls: tok("cls_token", "<s>"), sep: tok("sep_token", "</s>") } : undefined,
      }),
    );
    parts = f.step("merges.txt", () => partsFromJson(json));
    source = { kind: "gpt2", json };
    if (roberta) {
      defaults = {
        bos_token: "<s>",
        eos_token: "</s>",
        unk_token: "<unk>",
        sep_token: "</s>",
        pad_token: "<pad>",
        cls_token: "<s>",
        mask_token: "<mask>",
      };
    } else if (Object.hasOwn(vocab, eot)) defaults = { bos_token: eot, eos_token: eot, unk_token: eot };
    inputNames = CAUSAL_INPUT_NAMES;
  } else if (f.has("vocab.txt")) {
    const vocab = f.step("vocab.txt", () => parseVocabTxt(f.text("vocab.txt")));
    const tok = (k: SpecialTokenKey, d: string) => tokenContent(stm[k]) ?? tokenContent(config[k]) ?? d;
    const json = f.step("vocab.txt", () =>
      bertJson(vocab, {
        doLowerCase: config.do_lower_case ?? true,
        stripAccents: config.strip_accents ?? null,
        tokenizeChineseChars: config.tokenize_chinese_chars ?? true,
        unk: tok("unk_token", "[UNK]"),
        sep: tok("sep_token", "[SEP]"),
        pad: tok("pad_token", "[PAD]"),
        cls: tok("cls_token", "[CLS]"),
        mask: tok("mask_token", "[MASK]"),
      }),
    );
    parts = f.step("vocab.txt", () => partsFromJson(json));
    source = { kind: "bert", json };
    defaults = { unk_token: "[UNK]", sep_token: "[SEP]", pad_token: "[PAD]", cls_token: "[CLS]", mask_token: "[MASK]" };
  } else {
    const tk = f.names.tiktoken ?? readdirSync(dir).find((n) => n.endsWith(".tiktoken") || n.endsWith(".tiktoken.gz"));
    if (!tk) {
      throw fail(
        ErrorCodes.TOKENIZER_FILE_MISSING,
        `AutoTokenizer.fromPretrained: ${dir} holds no tokenizer files; expected tokenizer.json, tokenizer.model, vocab.json + merges.txt, vocab.txt or a .tiktoken file`,
      );
    }
    const ranks = f.step(tk, () => parseTiktoken(f.text(tk)));
    const specials = new Map(Object.entries(opts.tiktokenSpecialTokens ?? { "<|endoftext|>": ranks.size }));
    const pattern = opts.tiktokenPattern ?? TIKTOKEN_GPT2_PATTERN;
    parts = f.step(tk, () => tiktokenParts(ranks, pattern, specials));
    source = { kind: "tiktoken", ranks, pattern };
    if (specials.has("<|endoftext|>"))
      defaults = { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>" };
    inputNames = CAUSAL_INPUT_NAMES;
  }

  // Added tokens listed only in tokenizer_config.json (or the older added_tokens.json).
  const extra: AddedTokenSpec[] = [];
  const known = new Set(parts.addedTokens.map((t) => t.content));
  for (const [id, t] of Object.entries(config.added_tokens_decoder ?? {})) {
    if (!known.has(String(t.content))) extra.push(normalizeAddedToken({ ...t, id: Number(id) }));
  }
  const legacyAdded = f.jsonIfPresent("added_tokens.json");
  if (legacyAdded) {
    for (const [content, id] of Object.entries(legacyAdded)) {
      if (!known.has(content) && !extra.some((t) => t.content === content)) {
        extra.push(normalizeAddedToken({ id, content, special: false }));
      }
    }
  }
  const pipeline = new Pipeline(parts, { splitSpecialTokens: config.split_special_tokens === true });
  if (extra.length) pipeline.addTokens(extra);

  const specialTokens: Partial<Record<SpecialTokenKey, string>> = {};
  for (const k of SPECIAL_TOKEN_KEYS) {
    const v = k in stm ? tokenContent(stm[k]) : k in config ? tokenContent(config[k]) : defaults[k];
    if (typeof v === "string") specialTokens[k] = v;
  }
  const additionalRaw = (stm.additional_special_tokens ?? config.additional_special_tokens ?? []) as unknown[];
  const additional = additionalRaw.map(tokenContent).filter((t): t is string => typeof t === "string");

  // Special tokens must exist as added tokens so the text splitter finds them.
  const missing = [...Object.values(specialTokens), ...additional].filter((t) => pipeline.tokenToId(t) === undefined);
  let tokenizer: PreTrainedTokenizer;
  let decode: DecodeFn | undefined;
  if (proto) {
    const p = proto;
    let impl: DecodeFn | null = null;
    decode = (ids, skip) => {
      impl ??= llamaSlowDecoder(p, pipeline, legacy, () => tokenizer.allSpecialTokens);
      return impl(ids, skip);
    };
  }
  tokenizer = new PreTrainedTokenizer({
    pipeline,
    config,
    source,
    specialTokens,
    additionalSpecialTokens: additional,
    defaultModelInputNames: inputNames,
    defaultCleanUp: cleanUp,
    decode,
  });
  if (missing.length) tokenizer.addTokens([...new Set(missing)], true);
  for (const t of [...Object.values(specialTokens), ...additional]) {
    const id = pipeline.tokenToId(t);
    const spec = pipeline.addedTokens.find((a) => a.content === t);
    if (id !== undefined && !spec)
      pipeline.addTokens([
        { id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      ]);
  }
  return tokenizer;
}
