/**
 * The "slow" tokenizer files, turned into the tokenizer.json pipeline that transformers'
 * `convert_slow_tokenizer` would produce for them (GPT-2 `vocab.json` + `merges.txt`, BERT
 * `vocab.txt`), or into the SentencePiece / tiktoken pipelines that have no tokenizer.json form.
 */
import { BpeModel } from "../models/bpe.ts";
import type { AddedTokenSpec } from "../pipeline/added-tokens.ts";
import { BYTE_TO_CHAR } from "../pipeline/byte-level.ts";
import type { PipelineParts } from "../pipeline/core.ts";
import { buildDecoder } from "../pipeline/decoders.ts";
import type { Json } from "../pipeline/normalizers.ts";
import { buildPostProcessor } from "../pipeline/post-processors.ts";
import { buildPreTokenizer } from "../pipeline/pre-tokenizers.ts";
import { spModel, spNormalizer } from "../sentencepiece/model.ts";
import { PieceType, type SpModelProto } from "../sentencepiece/proto.ts";

function special(id: number, content: string, normalized = false): AddedTokenSpec {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true };
}

/** Parse merges.txt: an optional "#version" line, then "left right" per line. */
export function parseMerges(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    if (line.length === 0 || (i === 0 && line.startsWith("#version"))) continue;
    const parts = line.split(" ");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
      throw new Error(`line ${i + 1} is ${JSON.stringify(line)}, expected two tokens separated by one space`);
    }
    out.push(line);
  }
  return out;
}

/** GPT-2 (and RoBERTa-style) byte-level BPE from vocab.json + merges.txt. */
export function gpt2Json(
  vocab: Record<string, number>,
  merges: string[],
  specials: string[],
  opts: { addPrefixSpace?: boolean; roberta?: { cls: string; sep: string } } = {},
): Json {
  const r = opts.roberta;
  // RobertaTokenizer's <mask> swallows the space before it (AddedToken(lstrip=True)).
  const added = specials
    .filter((s, i) => Object.hasOwn(vocab, s) && specials.indexOf(s) === i)
    .map((s) => ({ ...special(vocab[s], s, !r), lstrip: r !== undefined && s === "<mask>" }));
  if (r) {
    for (const t of [r.cls, r.sep])
      if (!Object.hasOwn(vocab, t)) throw new Error(`the special token ${JSON.stringify(t)} is not in the vocabulary`);
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: opts.addPrefixSpace === true,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: r
      ? {
          type: "RobertaProcessing",
          sep: [r.sep, vocab[r.sep]],
          cls: [r.cls, vocab[r.cls]],
          trim_offsets: true,
          add_prefix_space: opts.addPrefixSpace === true,
        }
      : { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** Parse vocab.txt: one token per line, the line number is the id. */
export function parseVocabTxt(text: string): Record<string, number> {
  const vocab: Record<string, number> = Object.create(null);
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((l, i) => {
    const tok = l.replace(/\r$/, "");
    if (!Object.hasOwn(vocab, tok)) vocab[tok] = i;
  });
  return vocab;
}

export interface BertOptions {
  doLowerCase: boolean;
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  unk: string;
  sep: string;
  pad: string;
  cls: string;
  mask: string;
}

/** BERT WordPiece from vocab.txt (transformers' BertConverter). */
export function bertJson(vocab: Record<string, number>, o: BertOptions): Json {
  for (const t of [o.unk, o.sep, o.cls]) {
    if (!Object.hasOwn(vocab, t)) throw new Error(`the special token ${JSON.stringify(t)} is not in the vocabulary`);
  }
  const added = [o.pad, o.unk, o.cls, o.sep, o.mask]
    .filter((t) => Object.hasOwn(vocab, t))
    .map((t) => special(vocab[t], t));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: o.tokenizeChineseChars,
      strip_accents: o.stripAccents,
      lowercase: o.doLowerCase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: o.cls, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: o.sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: o.cls, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: o.sep, type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: o.sep, type_id: 1 } },
      ],
      special_tokens: {
        [o.cls]: { id: o.cls, ids: [vocab[o.cls]], tokens: [o.cls] },
        [o.sep]: { id: o.sep, ids: [vocab[o.sep]], tokens: [o.sep] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: o.unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** A BOS/EOS template like LlamaTokenizer's `build_inputs_with_special_tokens`. */
export function bosEosTemplate(bos: [string, number] | null, eos: [string, number] | null): Json {
  const single: Json[] = [];
  const pair: Json[] = [];
  const specials: Json = {};
  if (bos) {
    single.push({ SpecialToken: { id: bos[0], type_id: 0 } });
    pair.push({ SpecialToken: { id: bos[0], type_id: 0 } });
    specials[bos[0]] = { id: bos[0], ids: [bos[1]], tokens: [bos[0]] };
  }
  single.push({ Sequence: { id: "A", type_id: 0 } });
  pair.push({ Sequence: { id: "A", type_id: 0 } });
  if (eos) {
    single.push({ SpecialToken: { id: eos[0], type_id: 0 } });
    pair.push({ SpecialToken: { id: eos[0], type_id: 0 } });
    specials[eos[0]] = { id: eos[0], ids: [eos[1]], tokens: [eos[0]] };
  }
  if (bos) pair.push({ SpecialToken: { id: bos[0], type_id: 1 } });
  pair.push({ Sequence: { id: "B", type_id: 1 } });
  if (eos) pair.push({ SpecialToken: { id: eos[0], type_id: 1 } });
  return { type: "TemplateProcessing", single, pair, special_tokens: specials };
}

/** A SentencePiece `tokenizer.model` pipeline (the slow LlamaTokenizer / T5-style path). */
export function sentencePieceParts(
  proto: SpModelProto,
  opts: { legacy: boolean; addBos: boolean; addEos: boolean },
): PipelineParts {
  const userDefined = proto.pieces.filter((p) => p.type === PieceType.UserDefined).map((p) => p.piece);
  const added: AddedTokenSpec[] = [];
  proto.pieces.forEach((p, id) => {
    if (p.type === PieceType.Control || p.type === PieceType.Unknown) added.push(special(id, p.piece));
  });
  const bos =
    proto.bosId >= 0 && opts.addBos ? ([proto.pieces[proto.bosId].piece, proto.bosId] as [string, number]) : null;
  const eos =
    proto.eosId >= 0 && opts.addEos ? ([proto.pieces[proto.eosId].piece, proto.eosId] as [string, number]) : null;
  return {
    normalizer: spNormalizer(proto, opts.legacy ? "always" : "first", userDefined),
    preTokenizer: null,
    model: spModel(proto),
    postProcessor: buildPostProcessor(bosEosTemplate(bos, eos)),
    decoder: null,
    addedTokens: added,
  };
}

/** Parse a tiktoken rank file: "base64(token bytes) rank" per line. Returns byte-level token → rank. */
export function parseTiktoken(text: string): Map<string, number> {
  const vocab = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const sp = line.indexOf(" ");
    const rank = Number(line.slice(sp + 1));
    if (sp <= 0 || !Number.isInteger(rank))
      throw new Error(`line ${i + 1} is ${JSON.stringify(line.slice(0, 60))}, expected "<base64> <rank>"`);
    vocab.set(byteString(Buffer.from(line.slice(0, sp), "base64")), rank);
  }
  return vocab;
}

function byteString(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

/** The regex tiktoken's GPT-2 encodings and Whisper use. */
export const TIKTOKEN_GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** A tiktoken pipeline: regex split, bytes, rank-ordered BPE. `specials` maps extra special tokens to ids. */
export function tiktokenParts(
  ranks: Map<string, number>,
  pattern: string,
  specials: Map<string, number>,
): PipelineParts {
  const added: AddedTokenSpec[] = [...specials].map(([content, id]) => special(id, content));
  return {
    normalizer: null,
    preTokenizer: buildPreTokenizer({
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    }),
    model: new BpeModel({ vocab: ranks, merges: [], rankMerges: true }),
    postProcessor: null,
    decoder: buildDecoder({ type: "ByteLevel" }),
    addedTokens: added,
  };
}

/**
 * Recover merges from tiktoken ranks (for saving as tokenizer.json): each token's merge is the last
 * step of rank-ordered BPE over its bytes restricted to lower ranks.
 */
export function ranksToMerges(ranks: Map<string, number>): string[] {
  const byRank = [...ranks].sort((a, b) => a[1] - b[1]);
  const out: string[] = [];
  for (const [tok, rank] of byRank) {
    if (tok.length < 2) continue;
    const parts = Array.from(tok);
    while (parts.length > 2) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < rank && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best] + parts[best + 1]);
    }
    if (parts.length === 2) out.push(`${parts[0]} ${parts[1]}`);
  }
  return out;
}
