/**
 * SentencePiece itself, as the Python "slow" tokenizers run it through the `sentencepiece` library:
 * its normaliser (charsmap, dummy prefix, whitespace escaping), its BPE (merge by piece score,
 * not by merge rank) and Unigram encoders, byte fallback, and its decoder.
 */
import { MergeQueue, runMerges } from "../models/merge-queue.ts";
import { byteFallbackIds, type TokenModel, type WordTokens } from "../models/model.ts";
import { UnigramModel } from "../models/unigram.ts";
import { CharsMap } from "../pipeline/charsmap.ts";
import type { NormalizedString } from "../pipeline/normalized.ts";
import type { Normalizer } from "../pipeline/normalizers.ts";
import { PieceType, type SpModelProto } from "./proto.ts";

export const SPACE = "\u2581";

/** When to add the dummy "▁" prefix: every text segment, only a segment at the start of the input, or never. */
export type DummyPrefix = "always" | "first" | "never";

const utf8 = new TextEncoder();

/** SentencePiece's `Normalizer::Normalize` on a {@link NormalizedString}, keeping alignment. */
export function spNormalizer(proto: SpModelProto, dummyPrefix: DummyPrefix, userDefined: string[]): Normalizer {
  const spec = proto.normalizer;
  const map =
    spec.precompiledCharsmap && spec.precompiledCharsmap.length > 0 ? new CharsMap(spec.precompiledCharsmap) : null;
  const userSorted = [...userDefined].sort((a, b) => b.length - a.length);
  const escapeWs = spec.escapeWhitespaces;
  const removeExtra = spec.removeExtraWhitespaces;
  const suffix = proto.treatWhitespaceAsSuffix;
  return {
    normalize(ns: NormalizedString) {
      const text = ns.text;
      // Chunk the text the way NormalizePrefix consumes it.
      const chunks: string[] = [];
      const outs: string[] = [];
      let i = 0;
      while (i < text.length) {
        const ud = userSorted.find((u) => text.startsWith(u, i));
        if (ud) {
          chunks.push(ud);
          outs.push(ud);
          i += ud.length;
          continue;
        }
        let consumed = 0;
        let out: string | null = null;
        if (map) {
          const rest = utf8.encode(text.slice(i, i + 64));
          let best: [number, number] | null = null;
          for (const m of map.prefixMatches(rest, 0)) if (best === null || m[0] > best[0]) best = m;
          if (best) {
            // Map the matched byte length back to code units.
            let bytes = 0;
            let units = 0;
            for (const ch of text.slice(i, i + 64)) {
              if (bytes >= best[0]) break;
              bytes += utf8.encode(ch).length;
              units += ch.length;
            }
            if (bytes === best[0]) {
              consumed = units;
              out = map.replacement(best[1]);
            }
          }
        }
        if (out === null) {
          const cp = text.codePointAt(i) as number;
          consumed = cp > 0xffff ? 2 : 1;
          out = text.slice(i, i + consumed);
          if ((cp & 0xfc00) === 0xd800 || (cp & 0xfc00) === 0xdc00) out = "\ufffd";
        }
        chunks.push(text.slice(i, i + consumed));
        outs.push(out);
        i += consumed;
      }
      // Whitespace handling over the chunk outputs.
      let k = 0;
      if (removeExtra) while (k < outs.length && outs[k] === " ") outs[k++] = "";
      if (k === outs.length) {
        ns.transformChunks(chunks, () => "");
        return;
      }
      const ws = escapeWs ? SPACE : " ";
      let isPrevSpace = removeExtra;
      for (; k < outs.length; k++) {
        let s = outs[k];
        if (isPrevSpace) while (s.startsWith(" ")) s = s.slice(1);
        if (s.length > 0) {
          isPrevSpace = s.endsWith(" ");
          if (escapeWs) s = s.replaceAll(" ", SPACE);
        }
        if (!removeExtra) isPrevSpace = false;
        outs[k] = s;
      }
      if (removeExtra) {
        for (let j = outs.length - 1; j >= 0; j--) {
          while (outs[j].endsWith(ws)) outs[j] = outs[j].slice(0, -ws.length);
          if (outs[j].length > 0) break;
        }
      }
      let n = 0;
      ns.transformChunks(chunks, () => outs[n++]);
      const atStart = ns.text.length > 0 && ns.originalStart(0) === 0;
      if (ns.text.length > 0 && (dummyPrefix === "always" || (dummyPrefix === "first" && atStart))) {
        if (suffix) ns.append(ws);
        else ns.prepend(ws);
      }
    },
  };
}

/** SentencePiece BPE: merge the adjacent pair whose concatenation is the highest-scoring piece. */
export class SpBpeModel implements TokenModel {
  readonly vocab = new Map<string, number>();
  /** Pieces BPE may produce: normal, user-defined, unused. */
  private readonly mergeable = new Map<string, number>();
  private readonly queue = new MergeQueue();
  /** User-defined pieces, longest first: matched whole before merging and never merged further. */
  private readonly userDefined: string[];

  constructor(readonly proto: SpModelProto) {
    proto.pieces.forEach((p, id) => {
      if (!this.vocab.has(p.piece)) this.vocab.set(p.piece, id);
      if (p.type === PieceType.Normal || p.type === PieceType.UserDefined || p.type === PieceType.Unused) {
        this.mergeable.set(p.piece, id);
      }
    });
    this.userDefined = proto.pieces
      .filter((p) => p.type === PieceType.UserDefined)
      .map((p) => p.piece)
      .sort((a, b) => b.length - a.length);
  }

  get vocabSize(): number {
    return this.proto.pieces.length;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.proto.pieces[id]?.piece;
  }

  tokenize(text: string): WordTokens {
    const syms: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const frozen = new Set<number>();
    for (let i = 0; i < text.length; ) {
      let n = (text.charCodeAt(i) & 0xfc00) === 0xd800 && i + 1 < text.length ? 2 : 1;
      const ud = this.userDefined.length ? this.userDefined.find((u) => text.startsWith(u, i)) : undefined;
      if (ud) {
        n = ud.length;
        frozen.add(syms.length);
      }
      syms.push(text.slice(i, i + n));
      starts.push(i);
      ends.push(i + n);
      i += n;
    }
    const pieces = this.proto.pieces;
    const next =
      syms.length === 0
        ? new Int32Array(0)
        : runMerges(
            syms.length,
            (l, r) => {
              if (frozen.has(l) || frozen.has(r)) return Number.NEGATIVE_INFINITY;
              const id = this.mergeable.get(syms[l] + syms[r]);
              // Highest score first: negate it for the min-queue.
              return id === undefined ? Number.NEGATIVE_INFINITY : -pieces[id].score;
            },
            (l, r) => {
              syms[l] += syms[r];
              ends[l] = ends[r];
            },
            this.queue,
          );
    const out: WordTokens = { ids: [], starts: [], ends: [] };
    const unk = this.proto.unkId;
    for (let i = syms.length > 0 ? 0 : -1; i >= 0; i = next[i]) {
      const id = this.mergeable.get(syms[i]) ?? this.vocab.get(syms[i]);
      const isUnk = id === undefined || pieces[id].type === PieceType.Unknown;
      if (isUnk && this.proto.byteFallback) {
        const bytes = byteFallbackIds(syms[i], (t) => this.vocab.get(t));
        if (bytes) {
          for (const b of bytes) {
            out.ids.push(b);
            out.starts.push(starts[i]);
            out.ends.push(ends[i]);
          }
          continue;
        }
      }
      out.ids.push(isUnk ? unk : (id as number));
      out.starts.push(starts[i]);
      out.ends.push(ends[i]);
    }
    return out;
  }
}

/** The encoder a `tokenizer.model` calls for: BPE (type 2) or Unigram (type 1). */
export function spModel(proto: SpModelProto): TokenModel {
  if (proto.modelType === 2) return new SpBpeModel(proto);
  if (proto.modelType === 1) {
    const excluded = new Set<number>();
    proto.pieces.forEach((p, id) => {
      if (p.type !== PieceType.Normal && p.type !== PieceType.UserDefined) excluded.add(id);
    });
    // SentencePiece gives user-defined pieces the score length * max_score - 0.1, where max_score
    // starts from FLT_MIN (the smallest positive float): with the usual negative log-probabilities
    // that is about -0.1, so Viterbi keeps them whole.
    let maxScore = 1.1754943508222875e-38;
    for (const p of proto.pieces) if (p.type === PieceType.Normal && p.score > maxScore) maxScore = p.score;
    return new UnigramModel({
      vocab: proto.pieces.map((p) => [
        p.piece,
        p.type === PieceType.UserDefined ? Array.from(p.piece).length * maxScore - 0.1 : p.score,
      ]),
      unkId: proto.unkId,
      byteFallback: proto.byteFallback,
      fuseUnk: true,
      excluded,
      float32: true,
    });
  }
  throw new Error(`SentencePiece model_type ${proto.modelType} (word/char models) is not supported`);
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * SentencePiece's `DecodePieces`: control pieces vanish, unknown pieces print " ⁇ ", byte pieces are
 * gathered and decoded as UTF-8, "▁" becomes a space, and one leading space is dropped while the
 * output is still empty when the model adds a dummy prefix (`stripLeading`).
 */
export function spDecodePieces(
  proto: SpModelProto,
  vocab: Map<string, number>,
  pieces: string[],
  stripLeading: boolean,
): string {
  let out = "";
  let bytes: number[] = [];
  // Strip one leading "▁" while nothing has been output and no such space was consumed yet.
  let bosSeen = false;
  const flush = () => {
    if (bytes.length === 0) return;
    out += decoder.decode(new Uint8Array(bytes));
    bytes = [];
  };
  for (const piece of pieces) {
    const id = vocab.get(piece) ?? proto.unkId;
    const type = proto.pieces[id]?.type;
    if (type === PieceType.Byte) {
      bytes.push(Number.parseInt(piece.slice(3, 5), 16));
      continue;
    }
    flush();
    const bosWs = !bosSeen && out.length === 0;
    let s: string;
    if (type === PieceType.Control) s = "";
    else if (id === proto.unkId && piece !== proto.pieces[id].piece) s = piece;
    else if (type === PieceType.Unknown) s = " \u2047 ";
    else {
      s = piece;
      if (bosWs && stripLeading && s.startsWith(SPACE)) {
        s = s.slice(1);
        bosSeen = true;
      }
      s = s.replaceAll(SPACE, " ");
    }
    out += s;
  }
  flush();
  return out;
}
