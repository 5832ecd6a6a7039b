/**
 * The tokenisation pipeline of a `tokenizer.json`: added tokens → normalizer → pre-tokenizer →
 * model → (post-processor, applied by the caller after truncation) and the decoder. Mirrors the
 * Rust `tokenizers` crate that the Python fast tokenizers run.
 */
import { BpeModel } from "../models/bpe.ts";
import type { TokenModel } from "../models/model.ts";
import { UnigramModel } from "../models/unigram.ts";
import { WordLevelModel } from "../models/word-level.ts";
import { WordPieceModel } from "../models/wordpiece.ts";
import { type AddedTokenSpec, type Span, TokenMatcher } from "./added-tokens.ts";
import { buildDecoder, type Decoder } from "./decoders.ts";
import { NormalizedString } from "./normalized.ts";
import { buildNormalizer, type Json, type Normalizer, UnsupportedComponent } from "./normalizers.ts";
import { buildPostProcessor, type PostProcessor, type RawEncoding } from "./post-processors.ts";
import { buildPreTokenizer, type Piece, type PreTokenizer, pieceRange } from "./pre-tokenizers.ts";

/** The parts of a pipeline. */
export interface PipelineParts {
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  model: TokenModel;
  postProcessor: PostProcessor | null;
  decoder: Decoder | null;
  addedTokens: AddedTokenSpec[];
}

function toVocabMap(v: unknown, what: string): Map<string, number> {
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw new Error(`${what}: 'model.vocab' must be an object of token → id`);
  const m = new Map<string, number>();
  const obj = v as Record<string, number>;
  for (const k in obj) if (Object.hasOwn(obj, k)) m.set(k, obj[k]);
  return m;
}

/** Build the model of a tokenizer.json (`model` field). */
export function buildModel(cfg: Json): TokenModel {
  switch (cfg.type ?? (cfg.merges ? "BPE" : undefined)) {
    case "BPE": {
      const merges = ((cfg.merges as unknown[]) ?? []).map((m) =>
        Array.isArray(m) ? ([String(m[0]), String(m[1])] as [string, string]) : String(m),
      );
      return new BpeModel({
        vocab: toVocabMap(cfg.vocab, "BPE"),
        merges,
        unkToken: (cfg.unk_token as string | null) ?? null,
        continuingSubwordPrefix: (cfg.continuing_subword_prefix as string | null) ?? null,
        endOfWordSuffix: (cfg.end_of_word_suffix as string | null) ?? null,
        fuseUnk: cfg.fuse_unk === true,
        byteFallback: cfg.byte_fallback === true,
        ignoreMerges: cfg.ignore_merges === true,
      });
    }
    case "WordPiece":
      return new WordPieceModel({
        vocab: toVocabMap(cfg.vocab, "WordPiece"),
        unkToken: String(cfg.unk_token ?? "[UNK]"),
        continuingSubwordPrefix: String(cfg.continuing_subword_prefix ?? "##"),
        maxInputCharsPerWord: Number(cfg.max_input_chars_per_word ?? 100),
      });
    case "WordLevel":
      return new WordLevelModel(toVocabMap(cfg.vocab, "WordLevel"), (cfg.unk_token as string | null) ?? null);
    case "Unigram":
      if (!Array.isArray(cfg.vocab)) throw new Error("Unigram: 'model.vocab' must be a list of [piece, score]");
      return new UnigramModel({
        vocab: (cfg.vocab as Array<[string, number]>).map(([p, s]) => [String(p), Number(s)]),
        unkId: cfg.unk_id === null || cfg.unk_id === undefined ? null : Number(cfg.unk_id),
        byteFallback: cfg.byte_fallback === true,
        fuseUnk: true,
      });
    default:
      throw new UnsupportedComponent(`model type ${JSON.stringify(cfg.type)}`);
  }
}

/** Build all parts from a parsed tokenizer.json. */
export function partsFromJson(json: Json): PipelineParts {
  if (!json.model || typeof json.model !== "object") throw new Error("'model' is missing");
  const added = ((json.added_tokens as Json[]) ?? []).map(normalizeAddedToken);
  return {
    normalizer: buildNormalizer(json.normalizer as Json | null),
    preTokenizer: buildPreTokenizer(json.pre_tokenizer as Json | null),
    model: buildModel(json.model as Json),
    postProcessor: buildPostProcessor(json.post_processor as Json | null),
    decoder: buildDecoder(json.decoder as Json | null),
    addedTokens: added,
  };
}

/** Fill defaults of an added-token record (tokenizer.json or tokenizer_config.json's added_tokens_decoder). */
export function normalizeAddedToken(t: Json): AddedTokenSpec {
  const special = t.special === true;
  return {
    id: Number(t.id),
    content: String(t.content),
    single_word: t.single_word === true,
    lstrip: t.lstrip === true,
    rstrip: t.rstrip === true,
    normalized: t.normalized === undefined ? !special : t.normalized === true,
    special,
  };
}

/** A runnable pipeline. */
export class Pipeline {
  readonly parts: PipelineParts;
  private readonly addedById = new Map<number, AddedTokenSpec>();
  private readonly addedByContent = new Map<string, AddedTokenSpec>();
  private rawMatcher!: TokenMatcher;
  private normMatcher!: TokenMatcher;

  /** With `splitSpecialTokens`, special tokens in the text are tokenised as text (Python's `split_special_tokens`). */
  readonly splitSpecialTokens: boolean;

  constructor(parts: PipelineParts, opts: { splitSpecialTokens?: boolean } = {}) {
    this.parts = parts;
    this.splitSpecialTokens = opts.splitSpecialTokens === true;
    this.rebuildMatchers();
  }

  get model(): TokenModel {
    return this.parts.model;
  }

  get addedTokens(): AddedTokenSpec[] {
    return this.parts.addedTokens;
  }

  /** Register more added tokens (ids already assigned). */
  addTokens(tokens: AddedTokenSpec[]): void {
    for (const t of tokens) {
      const i = this.parts.addedTokens.findIndex((x) => x.content === t.content);
      if (i >= 0) this.parts.addedTokens[i] = t;
      else this.parts.addedTokens.push(t);
    }
    this.rebuildMatchers();
  }

  private rebuildMatchers(): void {
    this.addedById.clear();
    this.addedByContent.clear();
    for (const t of this.parts.addedTokens) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    const matchable = this.parts.addedTokens.filter((t) => !(this.splitSpecialTokens && t.special));
    const raw = matchable.filter((t) => !t.normalized);
    const norm = matchable.filter((t) => t.normalized);
    this.rawMatcher = new TokenMatcher(raw);
    this.normMatcher = new TokenMatcher(norm, (t) => {
      const n = this.parts.normalizer;
      if (!n) return t.content;
      const ns = new NormalizedString(t.content);
      n.normalize(ns);
      return ns.text;
    });
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.parts.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.parts.model.idToToken(id);
  }

  isSpecialId(id: number): boolean {
    return this.addedById.get(id)?.special === true;
  }

  /** Vocabulary size including added tokens (Python `len(tokenizer)`). */
  get size(): number {
    let n = this.parts.model.vocabSize;
    for (const t of this.parts.addedTokens) if (this.parts.model.idToToken(t.id) === undefined) n++;
    return n;
  }

  /** Encode one sequence without special tokens. Offsets are UTF-16 code units of `text`. */
  encodeSequence(text: string, typeId: number, wantOffsets: boolean): RawEncoding {
    const ids: number[] = [];
    const offsets: number[] | null = wantOffsets ? [] : null;
    const model = this.parts.model;
    const pre = this.parts.preTokenizer;
    for (const span of this.rawMatcher.split(text)) {
      if (span.token) {
        ids.push(span.token.id);
        offsets?.push(span.start, span.end);
        continue;
      }
      if (span.end <= span.start) continue;
      const ns = new NormalizedString(
        span.start === 0 && span.end === text.length ? text : text.slice(span.start, span.end),
        span.start,
      );
      this.parts.normalizer?.normalize(ns);
      const sub: Span[] = this.normMatcher.empty
        ? [{ start: 0, end: ns.text.length, token: null }]
        : this.normMatcher.split(ns.text);
      for (const s of sub) {
        if (s.token) {
          ids.push(s.token.id);
          offsets?.push(ns.originalStart(s.start), ns.originalEnd(s.end));
          continue;
        }
        if (s.end <= s.start) continue;
        if (!wantOffsets && pre?.words) {
          const t = s.start === 0 && s.end === ns.text.length ? ns.text : ns.text.slice(s.start, s.end);
          pre.words(t, (word) => {
            if (word.length === 0) return;
            const w = model.tokenize(word);
            for (let k = 0; k < w.ids.length; k++) ids.push(w.ids[k]);
          });
          continue;
        }
        const whole: Piece = {
          text: s.start === 0 && s.end === ns.text.length ? ns.text : ns.text.slice(s.start, s.end),
          start: s.start,
          ranges: null,
        };
        const pieces = pre ? pre.split([whole], { offsets: wantOffsets, ns }) : [whole];
        for (const p of pieces) {
          if (p.text.length === 0) continue;
          const w = model.tokenize(p.text);
          if (offsets) {
            for (let k = 0; k < w.ids.length; k++) {
              const [a, b] = pieceRange(p, w.starts[k], w.ends[k]);
              ids.push(w.ids[k]);
              offsets.push(ns.originalStart(a), ns.originalEnd(b));
            }
          } else {
            for (let k = 0; k < w.ids.length; k++) ids.push(w.ids[k]);
          }
        }
      }
    }
    const n = ids.length;
    return {
      ids,
      typeIds: new Array<number>(n).fill(typeId),
      specialMask: new Array<number>(n).fill(0),
      offsets,
      sequenceIds: new Array<number>(n).fill(typeId),
      overflowing: [],
    };
  }

  /** Rust `decode`: ids → tokens (optionally without special tokens) → decoder. */
  decodeTokens(ids: number[], skipSpecialTokens: boolean): string {
    const tokens: string[] = [];
    for (const id of ids) {
      if (skipSpecialTokens && this.isSpecialId(id)) continue;
      const t = this.idToToken(id);
      if (t !== undefined) tokens.push(t);
    }
    if (!this.parts.decoder) return tokens.join(" ");
    return this.parts.decoder.decodeChain(tokens).join("");
  }
}
