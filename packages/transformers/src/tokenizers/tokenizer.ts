/**
 * `PreTrainedTokenizer`: the user-facing tokenizer (Python's `PreTrainedTokenizerFast` surface):
 * batch encoding with padding/truncation/masks/offsets, decoding, added tokens, chat templates
 * and saving. Built by {@link AutoTokenizer.fromPretrained} from the files on disk.
 */
import { ErrorCodes, fail } from "../errors.ts";
import { renderChatTemplate } from "./chat-template.ts";
import { padRow, type Side, type TruncationStrategy, truncatePair } from "./encoding.ts";
import type { AddedTokenSpec } from "./pipeline/added-tokens.ts";
import type { Pipeline } from "./pipeline/core.ts";
import { cleanUpTokenization } from "./pipeline/decoders.ts";
import type { RawEncoding } from "./pipeline/post-processors.ts";
import { saveTokenizerFiles, type TokenizerSource } from "./save.ts";
import { SPECIAL_TOKEN_KEYS, type SpecialTokenKey, VERY_LARGE_INTEGER } from "./special-tokens.ts";
import type {
  AddedTokenInit,
  BatchEncoding,
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  Encoding,
  TokenizerConfigJson,
} from "./types.ts";

/** How ids are decoded back to text (Rust decoder chain, or the slow SentencePiece path). */
export type DecodeFn = (ids: number[], skipSpecialTokens: boolean) => string;

export class PreTrainedTokenizer {
  /** The tokenisation pipeline. */
  readonly pipeline: Pipeline;
  /** tokenizer_config.json as loaded (snake_case), updated by `addTokens`/`addSpecialTokens`. */
  readonly config: TokenizerConfigJson;
  /** Where the vocabulary came from; decides which files `saveTokenizer` writes. */
  readonly source: TokenizerSource;
  /** Special tokens by slot ("bos_token" → "<s>"). */
  readonly specialTokens: Partial<Record<SpecialTokenKey, string>> = {};
  additionalSpecialTokens: string[] = [];
  paddingSide: Side;
  truncationSide: Side;
  modelMaxLength: number;
  cleanUpTokenizationSpaces: boolean;
  readonly modelInputNames: string[];
  private readonly customDecode: DecodeFn | null;

  constructor(opts: {
    pipeline: Pipeline;
    config: TokenizerConfigJson;
    source: TokenizerSource;
    specialTokens: Partial<Record<SpecialTokenKey, string>>;
    additionalSpecialTokens?: string[];
    defaultModelInputNames: string[];
    defaultCleanUp: boolean;
    decode?: DecodeFn;
  }) {
    this.pipeline = opts.pipeline;
    this.config = opts.config;
    this.source = opts.source;
    Object.assign(this.specialTokens, opts.specialTokens);
    this.additionalSpecialTokens = opts.additionalSpecialTokens ?? [];
    this.paddingSide = opts.config.padding_side ?? "right";
    this.truncationSide = opts.config.truncation_side ?? "right";
    this.modelMaxLength = opts.config.model_max_length ?? VERY_LARGE_INTEGER;
    this.cleanUpTokenizationSpaces = opts.config.clean_up_tokenization_spaces ?? opts.defaultCleanUp;
    this.modelInputNames = opts.config.model_input_names ?? opts.defaultModelInputNames;
    this.customDecode = opts.decode ?? null;
  }

  // ---- vocabulary -------------------------------------------------------------------------

  /** Number of tokens including added ones (Python `len(tokenizer)`). */
  get length(): number {
    return this.pipeline.size;
  }

  /** Size of the base vocabulary, without added tokens (Python `vocab_size`). */
  get vocabSize(): number {
    return this.pipeline.model.vocabSize;
  }

  /** Token → id for the whole vocabulary, added tokens included. */
  getVocab(): Map<string, number> {
    const out = new Map<string, number>();
    for (let id = 0; id < this.pipeline.model.vocabSize; id++) {
      const t = this.pipeline.model.idToToken(id);
      if (t !== undefined && !out.has(t)) out.set(t, id);
    }
    for (const t of this.pipeline.addedTokens) out.set(t.content, t.id);
    return out;
  }

  /** Id of a token, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.pipeline.tokenToId(token);
  }

  convertTokensToIds(tokens: string[]): Array<number | undefined> {
    return tokens.map((t) => this.pipeline.tokenToId(t) ?? this.unkTokenId);
  }

  convertIdsToTokens(ids: number[], skipSpecialTokens = false): string[] {
    const out: string[] = [];
    for (const id of ids) {
      if (skipSpecialTokens && this.allSpecialIds.has(id)) continue;
      const t = this.pipeline.idToToken(id);
      if (t === undefined)
        throw fail(
          ErrorCodes.TOKENIZER_UNKNOWN_ID,
          `convertIdsToTokens: id ${id} is outside the vocabulary (size ${this.length})`,
        );
      out.push(t);
    }
    return out;
  }

  private idOf(key: SpecialTokenKey): number | undefined {
    const t = this.specialTokens[key];
    return t === undefined ? undefined : this.pipeline.tokenToId(t);
  }

  get bosTokenId(): number | undefined {
    return this.idOf("bos_token");
  }
  get eosTokenId(): number | undefined {
    return this.idOf("eos_token");
  }
  get unkTokenId(): number | undefined {
    return this.idOf("unk_token");
  }
  get sepTokenId(): number | undefined {
    return this.idOf("sep_token");
  }
  get padTokenId(): number | undefined {
    return this.idOf("pad_token");
  }
  get clsTokenId(): number | undefined {
    return this.idOf("cls_token");
  }
  get maskTokenId(): number | undefined {
    return this.idOf("mask_token");
  }

  /** Every special token (named slots and additional), as Python's `all_special_tokens`. */
  get allSpecialTokens(): string[] {
    const out: string[] = [];
    for (const k of SPECIAL_TOKEN_KEYS) {
      const t = this.specialTokens[k];
      if (t !== undefined && !out.includes(t)) out.push(t);
    }
    for (const t of this.additionalSpecialTokens) if (!out.includes(t)) out.push(t);
    return out;
  }

  /** Ids of special tokens: the named slots plus every added token marked special. */
  get allSpecialIds(): Set<number> {
    const s = new Set<number>();
    for (const t of this.allSpecialTokens) {
      const id = this.pipeline.tokenToId(t);
      if (id !== undefined) s.add(id);
    }
    for (const t of this.pipeline.addedTokens) if (t.special) s.add(t.id);
    return s;
  }

  /**
   * Add tokens to the vocabulary (new ids after the current ones). Returns how many were new.
   * @example tok.addTokens(["<tool>", { content: "<img>", special: true }])
   */
  addTokens(tokens: Array<string | AddedTokenInit>, special = false): number {
    let next = this.length;
    let added = 0;
    const specs: AddedTokenSpec[] = [];
    for (const t of tokens) {
      const init: AddedTokenInit = typeof t === "string" ? { content: t, special } : t;
      if (!init.content) throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, "addTokens: a token has empty 'content'");
      const isSpecial = init.special ?? special;
      let id = this.pipeline.tokenToId(init.content);
      if (id === undefined) {
        id = next++;
        added++;
      }
      specs.push({
        id,
        content: init.content,
        single_word: init.singleWord ?? false,
        lstrip: init.lstrip ?? false,
        rstrip: init.rstrip ?? false,
        normalized: init.normalized ?? !isSpecial,
        special: isSpecial,
      });
    }
    this.pipeline.addTokens(specs);
    return added;
  }

  /**
   * Set special tokens by slot (adding them to the vocabulary when new), like Python's
   * `add_special_tokens({"pad_token": "[PAD]"})`. Returns how many tokens were new.
   */
  addSpecialTokens(map: Partial<Record<SpecialTokenKey, string>> & { additional_special_tokens?: string[] }): number {
    let added = 0;
    for (const [k, v] of Object.entries(map)) {
      if (k === "additional_special_tokens") {
        const list = v as string[];
        added += this.addTokens(list, true);
        for (const t of list) if (!this.additionalSpecialTokens.includes(t)) this.additionalSpecialTokens.push(t);
      } else if ((SPECIAL_TOKEN_KEYS as readonly string[]).includes(k)) {
        added += this.addTokens([v as string], true);
        this.specialTokens[k as SpecialTokenKey] = v as string;
      } else {
        throw fail(
          ErrorCodes.TOKENIZER_BAD_ARGUMENT,
          `addSpecialTokens: unknown key '${k}', expected one of ${SPECIAL_TOKEN_KEYS.join(", ")}, additional_special_tokens`,
        );
      }
    }
    return added;
  }

  // ---- special tokens around already-tokenized ids ----------------------------------------

  /** How many special tokens `call`/`encode` add to one sequence or a pair (Python `num_special_tokens_to_add`). */
  numSpecialTokensToAdd(pair = false): number {
    return this.pipeline.parts.postProcessor?.addedTokens(pair) ?? 0;
  }

  /**
   * Wrap already-tokenized ids in the model's special tokens (Python `build_inputs_with_special_tokens`).
   * @example bert.buildInputsWithSpecialTokens([7592]) // [101, 7592, 102]
   */
  buildInputsWithSpecialTokens(ids: number[], pairIds?: number[]): number[] {
    return this.wrapIds(ids, pairIds).ids;
  }

  /**
   * 1 for special tokens, 0 for sequence tokens (Python `get_special_tokens_mask`). With
   * `alreadyHasSpecialTokens`, marks the special ids found in `ids` instead.
   */
  getSpecialTokensMask(ids: number[], pairIds?: number[], alreadyHasSpecialTokens = false): number[] {
    if (alreadyHasSpecialTokens) {
      const special = this.allSpecialIds;
      return ids.map((id) => (special.has(id) ? 1 : 0));
    }
    return this.wrapIds(ids, pairIds).specialMask;
  }

  private wrapIds(ids: number[], pairIds?: number[]): RawEncoding {
    const raw = (xs: number[], seq: number): RawEncoding => ({
      ids: xs.slice(),
      typeIds: xs.map(() => seq),
      specialMask: xs.map(() => 0),
      offsets: null,
      sequenceIds: xs.map(() => seq),
      overflowing: [],
    });
    const a = raw(ids, 0);
    const b = pairIds ? raw(pairIds, 1) : null;
    const post = this.pipeline.parts.postProcessor;
    return post ? post.process(a, b, true) : concat(a, b);
  }

  /** Tokens back to text through the decoder, without clean-up (Python `convert_tokens_to_string`). */
  convertTokensToString(tokens: string[]): string {
    const ids = tokens.map((t) => {
      const id = this.pipeline.tokenToId(t);
      if (id === undefined)
        throw fail(
          ErrorCodes.TOKENIZER_BAD_ARGUMENT,
          `convertTokensToString: ${JSON.stringify(t)} is not in the vocabulary`,
        );
      return id;
    });
    return this.decode(ids, { cleanUpTokenizationSpaces: false });
  }

  // ---- encoding ---------------------------------------------------------------------------

  /** Token strings of `text` (no special tokens unless asked). */
  tokenize(text: string, opts: { addSpecialTokens?: boolean } = {}): string[] {
    return this.convertIdsToTokens(this.encode(text, { addSpecialTokens: opts.addSpecialTokens ?? false }));
  }

  /**
   * Ids of one text (Python `tokenizer.encode`).
   * @example tok.encode("Hello world") // [15496, 995] with GPT-2
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== "string")
      throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, `encode: 'text' must be a string, got ${typeof text}`);
    const pair = opts.textPair;
    if (pair !== undefined && typeof pair !== "string")
      throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, "encode: 'textPair' must be a string");
    if (opts.padding !== undefined && opts.padding !== false) return this.call(text, opts).inputIds;
    return this.encodeRow(
      text,
      pair ?? null,
      opts.addSpecialTokens ?? true,
      this.truncationOf(opts),
      opts.stride ?? 0,
      false,
    ).ids;
  }

  /**
   * Model inputs for one text or a batch (Python `tokenizer(text, ...)`).
   * @example tok.call(["a", "longer text"], { padding: true }).attentionMask
   */
  call(text: string, opts?: EncodeOptions): Encoding;
  call(text: string[], opts?: EncodeOptions): BatchEncoding;
  call(text: string | string[], opts: EncodeOptions = {}): Encoding | BatchEncoding {
    if (typeof text === "string") {
      const b = this.encodeBatch([text], {
        ...opts,
        textPair: opts.textPair === undefined ? undefined : [opts.textPair as string],
      });
      return unbatch(b, opts.returnOverflowingTokens === true);
    }
    return this.encodeBatch(text, opts);
  }

  /** Model inputs for a batch of texts (and pairs). */
  encodeBatch(texts: string[], opts: EncodeOptions = {}): BatchEncoding {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
      throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, "encodeBatch: 'texts' must be an array of strings");
    }
    let pairs: string[] | null = null;
    if (opts.textPair !== undefined) {
      pairs = Array.isArray(opts.textPair) ? opts.textPair : [opts.textPair];
      if (pairs.length !== texts.length) {
        throw fail(
          ErrorCodes.TOKENIZER_BAD_ARGUMENT,
          `encodeBatch: 'textPair' has ${pairs.length} entries, expected ${texts.length} (one per text)`,
        );
      }
    }
    const add = opts.addSpecialTokens ?? true;
    const trunc = this.truncationOf(opts);
    const pad = this.paddingOf(opts);
    const wantOffsets = opts.returnOffsetsMapping === true;
    const wantOverflow = opts.returnOverflowingTokens === true;
    if (wantOverflow && pairs && trunc?.strategy === "longest_first") {
      throw fail(
        ErrorCodes.TOKENIZER_BAD_ARGUMENT,
        "encodeBatch: overflowing tokens for pairs need truncation 'only_first' or 'only_second', not 'longest_first'",
      );
    }
    const rows: RawEncoding[] = [];
    const samples: number[] = [];
    texts.forEach((t, i) => {
      const enc = this.encodeRow(t, pairs ? pairs[i] : null, add, trunc, opts.stride ?? 0, wantOffsets);
      rows.push(enc);
      samples.push(i);
      if (wantOverflow) {
        for (const o of enc.overflowing) {
          rows.push(o);
          samples.push(i);
        }
      }
    });
    let target = 0;
    if (pad) {
      target = pad.strategy === "max_length" ? pad.maxLength : rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
      if (opts.padToMultipleOf && target % opts.padToMultipleOf !== 0) {
        target += opts.padToMultipleOf - (target % opts.padToMultipleOf);
      }
    }
    let padId = 0;
    if (pad && rows.some((r) => r.ids.length < target)) {
      const id = this.padTokenId;
      if (id === undefined) {
        throw fail(
          ErrorCodes.TOKENIZER_NO_PAD_TOKEN,
          "encodeBatch: padding needs a pad token and this tokenizer has none; set one with addSpecialTokens({ pad_token: ... }) (e.g. the eos token)",
        );
      }
      padId = id;
    }
    const side = opts.paddingSide ?? this.paddingSide;
    const padded = rows.map((r) => padRow(r, pad ? target : 0, padId, 0, side));
    const out: BatchEncoding = {
      inputIds: padded.map((r) => r.ids),
      sequenceIds: padded.map((r) => r.sequenceIds.map((s) => (s < 0 ? null : s))),
    };
    if (opts.returnTokenTypeIds ?? this.modelInputNames.includes("token_type_ids"))
      out.tokenTypeIds = padded.map((r) => r.typeIds);
    if (opts.returnAttentionMask ?? this.modelInputNames.includes("attention_mask"))
      out.attentionMask = padded.map((r) => r.attentionMask);
    if (opts.returnSpecialTokensMask) out.specialTokensMask = padded.map((r) => r.specialMask);
    if (wantOffsets) {
      out.offsetMapping = padded.map((r) => {
        const o = r.offsets as number[];
        const pairsOut: Array<[number, number]> = [];
        for (let i = 0; i < o.length; i += 2) pairsOut.push([o[i], o[i + 1]]);
        return pairsOut;
      });
    }
    if (wantOverflow) out.overflowToSampleMapping = samples;
    if (opts.returnLength) out.length = padded.map((r) => r.attentionMask.reduce((s, x) => s + x, 0));
    return out;
  }

  /** Encode one text (and pair): sequences → truncation → post-processing (special tokens). */
  private encodeRow(
    text: string,
    pair: string | null,
    add: boolean,
    trunc: { strategy: TruncationStrategy; maxLength: number; side: Side } | null,
    stride: number,
    wantOffsets: boolean,
  ): RawEncoding {
    const post = this.pipeline.parts.postProcessor;
    const a = this.pipeline.encodeSequence(text, 0, wantOffsets);
    const b = pair !== null ? this.pipeline.encodeSequence(pair, 1, wantOffsets) : null;
    if (trunc) {
      const room = trunc.maxLength - (add && post ? post.addedTokens(b !== null) : 0);
      if (room < 0) {
        throw fail(
          ErrorCodes.TOKENIZER_BAD_ARGUMENT,
          `encode: maxLength ${trunc.maxLength} leaves no room after the special tokens`,
        );
      }
      truncatePair(a, b, room, trunc.strategy, stride, trunc.side);
    }
    if (!post) {
      const enc = concat(a, b);
      enc.overflowing = [
        ...a.overflowing.map((o) => concat(o, b)),
        ...(b ? b.overflowing.map((o) => concat(a, o)) : []),
      ];
      return enc;
    }
    if (wantOffsets && post.trimOffsets) {
      const idToToken = (id: number) => this.pipeline.idToToken(id) ?? "";
      post.trimOffsets(a, idToToken);
      if (b) post.trimOffsets(b, idToToken);
    }
    const enc = post.process(a, b, add);
    if (enc !== a && enc.overflowing.length === 0 && a.overflowing.length > 0) {
      enc.overflowing = a.overflowing.map((o) => post.process(o, b, add));
    }
    if (b && b.overflowing.length > 0) enc.overflowing.push(...b.overflowing.map((o) => post.process(a, o, add)));
    return enc;
  }

  private truncationOf(opts: EncodeOptions): { strategy: TruncationStrategy; maxLength: number; side: Side } | null {
    let t = opts.truncation;
    if (t === undefined || t === false || t === "do_not_truncate") {
      // Python: a max_length without truncation/padding implies longest_first truncation.
      if (opts.maxLength !== undefined && (opts.padding === undefined || opts.padding === false)) t = true;
      else return null;
    }
    const strategy: TruncationStrategy = t === true ? "longest_first" : (t as TruncationStrategy);
    if (!["longest_first", "only_first", "only_second"].includes(strategy)) {
      throw fail(
        ErrorCodes.TOKENIZER_BAD_ARGUMENT,
        `truncation must be a boolean, 'longest_first', 'only_first' or 'only_second', got ${JSON.stringify(t)}`,
      );
    }
    const maxLength = opts.maxLength ?? this.modelMaxLength;
    checkLength("maxLength", maxLength);
    return { strategy, maxLength, side: opts.truncationSide ?? this.truncationSide };
  }

  private paddingOf(opts: EncodeOptions): { strategy: "longest" | "max_length"; maxLength: number } | null {
    const p = opts.padding;
    if (p === undefined || p === false || p === "do_not_pad") return null;
    if (p === true || p === "longest") return { strategy: "longest", maxLength: 0 };
    if (p === "max_length") {
      const maxLength = opts.maxLength ?? this.modelMaxLength;
      if (maxLength >= VERY_LARGE_INTEGER) {
        throw fail(
          ErrorCodes.TOKENIZER_BAD_ARGUMENT,
          "padding 'max_length' needs 'maxLength' (this tokenizer has no model_max_length)",
        );
      }
      checkLength("maxLength", maxLength);
      return { strategy: "max_length", maxLength };
    }
    throw fail(
      ErrorCodes.TOKENIZER_BAD_ARGUMENT,
      `padding must be a boolean, 'longest' or 'max_length', got ${JSON.stringify(p)}`,
    );
  }

  // ---- decoding ---------------------------------------------------------------------------

  /**
   * Text of a list of ids (Python `tokenizer.decode`).
   * @example tok.decode([15496, 995]) // "Hello world"
   */
  decode(ids: number[], opts: DecodeOptions = {}): string {
    if (!Array.isArray(ids))
      throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, "decode: 'ids' must be an array of token ids");
    for (const id of ids) {
      if (!Number.isInteger(id) || this.pipeline.idToToken(id) === undefined) {
        throw fail(ErrorCodes.TOKENIZER_UNKNOWN_ID, `decode: id ${id} is outside the vocabulary (size ${this.length})`);
      }
    }
    const skip = opts.skipSpecialTokens ?? false;
    let text = this.customDecode ? this.customDecode(ids, skip) : this.pipeline.decodeTokens(ids, skip);
    if (opts.cleanUpTokenizationSpaces ?? this.cleanUpTokenizationSpaces) text = cleanUpTokenization(text);
    return text;
  }

  batchDecode(batch: number[][], opts: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, opts));
  }

  // ---- chat templates & saving ------------------------------------------------------------

  /**
   * Render a conversation with the tokenizer's chat template (Python `apply_chat_template`).
   * Returns ids by default, the string with `tokenize: false`.
   * @example tok.applyChatTemplate([{ role: "user", content: "Hi" }], { addGenerationPrompt: true, tokenize: false })
   */
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions & { tokenize: false }): string;
  applyChatTemplate(messages: ChatMessage[], opts?: ChatTemplateOptions): number[];
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string | number[] {
    const special: Record<string, unknown> = {};
    for (const k of SPECIAL_TOKEN_KEYS) if (this.specialTokens[k] !== undefined) special[k] = this.specialTokens[k];
    if (this.additionalSpecialTokens.length) special.additional_special_tokens = this.additionalSpecialTokens;
    const text = renderChatTemplate(this.config.chat_template, messages, opts, special);
    if (opts.tokenize === false) return text;
    return this.encode(text, { addSpecialTokens: false });
  }

  /**
   * Write the tokenizer to `dir` in files the Python stack loads (tokenizer.json and/or the
   * legacy vocabulary files, tokenizer_config.json, special_tokens_map.json). Atomic per file.
   * Returns the paths written.
   */
  async saveTokenizer(dir: string): Promise<string[]> {
    return saveTokenizerFiles(this, dir);
  }

  /** Python's name for {@link saveTokenizer}. */
  async savePretrained(dir: string): Promise<string[]> {
    return saveTokenizerFiles(this, dir);
  }
}

function checkLength(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, `'${name}' must be a non-negative integer, got ${v}`);
}

function concat(a: RawEncoding, b: RawEncoding | null): RawEncoding {
  if (!b) return { ...a, overflowing: [] };
  return {
    ids: a.ids.concat(b.ids),
    typeIds: a.typeIds.concat(b.typeIds),
    specialMask: a.specialMask.concat(b.specialMask),
    offsets: a.offsets && b.offsets ? a.offsets.concat(b.offsets) : null,
    sequenceIds: a.sequenceIds.concat(b.sequenceIds),
    overflowing: [],
  };
}

function unbatch(b: BatchEncoding, withOverflow: boolean): Encoding {
  const row = (i: number): Encoding => {
    const e: Encoding = { inputIds: b.inputIds[i], sequenceIds: b.sequenceIds[i] };
    if (b.attentionMask) e.attentionMask = b.attentionMask[i];
    if (b.tokenTypeIds) e.tokenTypeIds = b.tokenTypeIds[i];
    if (b.specialTokensMask) e.specialTokensMask = b.specialTokensMask[i];
    if (b.offsetMapping) e.offsetMapping = b.offsetMapping[i];
    if (b.length) e.length = b.length[i];
    return e;
  };
  const first = row(0);
  if (withOverflow) first.overflowing = b.inputIds.slice(1).map((_, k) => row(k + 1));
  return first;
}
