/**
 * A SentencePiece BPE model as tokenizer.json, the way transformers' `LlamaConverter` writes it
 * (so Python's fast tokenizer loads a saved Llama tokenizer without `sentencepiece`): the vocab in
 * id order, merges recovered from the pieces and ranked by the merged piece's score, byte
 * fallback, a "▁"-prefixing normaliser, and the Replace/ByteFallback/Fuse/Strip decoder.
 */
import type { Json } from "../pipeline/normalizers.ts";
import { PieceType, type SpModelProto } from "./proto.ts";

/** Merges of a SentencePiece BPE vocabulary: every split of a piece into two pieces, best merged score first. */
export function spMerges(proto: SpModelProto): string[] {
  const vocab = new Map<string, number>();
  proto.pieces.forEach((p, id) => {
    if (!vocab.has(p.piece)) vocab.set(p.piece, id);
  });
  const merges: Array<[string, string, number, number, number]> = [];
  proto.pieces.forEach((p, id) => {
    if (p.type !== PieceType.Normal && p.type !== PieceType.UserDefined) return;
    const chars = Array.from(p.piece);
    const local: Array<[string, string, number, number, number]> = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join("");
      const r = chars.slice(k).join("");
      const il = vocab.get(l);
      const ir = vocab.get(r);
      if (il !== undefined && ir !== undefined) local.push([l, r, p.score, il, ir]);
    }
    local.sort((a, b) => a[3] - b[3] || a[4] - b[4]);
    for (const m of local) merges.push([m[0], m[1], m[2], id, merges.length]);
  });
  // Highest score first; a stable sort keeps the (id, left id, right id) order within a score.
  merges.sort((a, b) => b[2] - a[2] || a[4] - b[4]);
  return merges.map(([l, r]) => `${l} ${r}`);
}

/** tokenizer.json for a Llama-style SentencePiece BPE model. */
export function llamaTokenizerJson(
  proto: SpModelProto,
  opts: { legacy: boolean; addBos: boolean; addEos: boolean },
): Json {
  const vocab: Record<string, number> = Object.create(null);
  proto.pieces.forEach((p, id) => {
    if (!Object.hasOwn(vocab, p.piece)) vocab[p.piece] = id;
  });
  const added = proto.pieces
    .map((p, id) => ({ p, id }))
    .filter(({ p }) => p.type === PieceType.Control || p.type === PieceType.Unknown)
    .map(({ p, id }) => ({
      id,
      content: p.piece,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }));
  const bos = proto.pieces[proto.bosId]?.piece;
  const eos = proto.pieces[proto.eosId]?.piece;
  const single: Json[] = [];
  const pair: Json[] = [];
  const specials: Json = {};
  const add = (list: Json[], tok: string | undefined, type: number) => {
    if (tok === undefined) return;
    list.push({ SpecialToken: { id: tok, type_id: type } });
    specials[tok] = { id: tok, ids: [vocab[tok]], tokens: [tok] };
  };
  if (opts.addBos) add(single, bos, 0);
  single.push({ Sequence: { id: "A", type_id: 0 } });
  if (opts.addEos) add(single, eos, 0);
  if (opts.addBos) add(pair, bos, 0);
  pair.push({ Sequence: { id: "A", type_id: 0 } });
  if (opts.addEos) add(pair, eos, 0);
  if (opts.addBos) add(pair, bos, 1);
  pair.push({ Sequence: { id: "B", type_id: 1 } });
  if (opts.addEos) add(pair, eos, 1);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: opts.legacy
      ? {
          type: "Sequence",
          normalizers: [
            { type: "Prepend", prepend: "▁" },
            { type: "Replace", pattern: { String: " " }, content: "▁" },
          ],
        }
      : { type: "Replace", pattern: { String: " " }, content: "▁" },
    pre_tokenizer: opts.legacy ? null : { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
    post_processor: { type: "TemplateProcessing", single, pair, special_tokens: specials },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: proto.pieces[proto.unkId]?.piece ?? null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: proto.byteFallback,
      ignore_merges: false,
      vocab,
      merges: spMerges(proto),
    },
  };
}
