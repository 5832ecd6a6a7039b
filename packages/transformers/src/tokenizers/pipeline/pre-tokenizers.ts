/** Pre-tokenizers of `tokenizer.json` (the `pre_tokenizer` field): split normalised text into words. */
import { byteLevelRanges, toByteLevel } from "./byte-level.ts";
import type { NormalizedString } from "./normalized.ts";
import { escapeRegex, type Json, UnsupportedComponent } from "./normalizers.ts";
import { isBertPunctuation, translateRegex, WHITE_SPACE_CLASS } from "./unicode.ts";

/**
 * A word on its way to the model. `text` may differ from the normalised text it came from (byte-level
 * and metaspace rewrite it); `ranges` then maps each code unit of `text` to a [start, end) range of
 * the normalised string, flat. When `ranges` is null, unit i sits at normalised offset `start + i`.
 */
export interface Piece {
  text: string;
  start: number;
  ranges: Int32Array | null;
}

/** Whether offsets are wanted, and where in the input the segment sits. */
export interface PreTokenizeContext {
  offsets: boolean;
  ns: NormalizedString;
}

export interface PreTokenizer {
  split(pieces: Piece[], ctx: PreTokenizeContext): Piece[];
  /** Fast path when no offsets are wanted: stream the words of `text` (same words as `split`). */
  words?(text: string, emit: (word: string) => void): void;
}

/** {@link isolate} on plain strings: emits each match and each gap between matches. */
function isolateText(text: string, re: RegExp, emit: (word: string) => void): void {
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m.index;
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex++;
      continue;
    }
    if (s > last) emit(text.slice(last, s));
    emit(m[0]);
    last = s + len;
  }
  if (last < text.length) emit(last === 0 ? text : text.slice(last));
}

/** Normalised [start, end) of units [a, b) of a piece. */
export function pieceRange(p: Piece, a: number, b: number): [number, number] {
  if (p.ranges === null) return [p.start + a, p.start + b];
  if (b <= a) {
    const at = a < p.text.length ? p.ranges[2 * a] : p.ranges[2 * p.text.length - 1];
    return [at, at];
  }
  return [p.ranges[2 * a], p.ranges[2 * (b - 1) + 1]];
}

/** The sub-piece of units [a, b). */
export function subPiece(p: Piece, a: number, b: number): Piece {
  if (a === 0 && b === p.text.length) return p;
  return {
    text: p.text.slice(a, b),
    start: p.ranges === null ? p.start + a : 0,
    ranges: p.ranges === null ? null : p.ranges.subarray(2 * a, 2 * b),
  };
}

export type SplitBehavior = "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";

/** Split a piece at `matches` ([start, end) pairs, sorted, disjoint) following a Rust `SplitDelimiterBehavior`. */
export function splitPiece(
  p: Piece,
  matches: Array<[number, number]>,
  behavior: SplitBehavior,
  invert = false,
  out: Piece[] = [],
): Piece[] {
  // Cover the piece with (start, end, isMatch) intervals.
  const spans: Array<[number, number, boolean]> = [];
  let last = 0;
  for (const [s, e] of matches) {
    if (s > last) spans.push([last, s, invert]);
    if (e > s) spans.push([s, e, !invert]);
    last = e;
  }
  if (last < p.text.length) spans.push([last, p.text.length, invert]);
  switch (behavior) {
    case "Removed":
      for (const [s, e, m] of spans) if (!m) out.push(subPiece(p, s, e));
      break;
    case "Isolated":
      for (const [s, e] of spans) out.push(subPiece(p, s, e));
      break;
    case "Contiguous": {
      let i = 0;
      while (i < spans.length) {
        const [s, e0, m] = spans[i];
        let e = e0;
        i++;
        if (m) {
          while (i < spans.length && spans[i][2]) {
            e = spans[i][1];
            i++;
          }
        }
        out.push(subPiece(p, s, e));
      }
      break;
    }
    case "MergedWithPrevious": {
      let pendingStart = -1;
      for (const [s, e, m] of spans) {
        if (m) {
          out.push(subPiece(p, pendingStart >= 0 ? pendingStart : s, e));
          pendingStart = -1;
        } else {
          if (pendingStart >= 0) out.push(subPiece(p, pendingStart, s));
          pendingStart = s;
        }
      }
      if (pendingStart >= 0) out.push(subPiece(p, pendingStart, p.text.length));
      break;
    }
    case "MergedWithNext": {
      let pendingStart = -1;
      for (const [s, e, m] of spans) {
        if (m) {
          if (pendingStart >= 0) out.push(subPiece(p, pendingStart, s));
          pendingStart = s;
        } else {
          out.push(subPiece(p, pendingStart >= 0 ? pendingStart : s, e));
          pendingStart = -1;
        }
      }
      if (pendingStart >= 0) out.push(subPiece(p, pendingStart, p.text.length));
      break;
    }
  }
  return out;
}

/**
 * `splitPiece(p, matches of re, "Isolated")` without the intermediate arrays (the hot path of
 * GPT-2/Llama 3 pre-tokenisation): each match and each gap between matches becomes a piece.
 */
export function isolate(p: Piece, re: RegExp, emit: (piece: Piece) => void): void {
  const text = p.text;
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m.index;
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex++;
      continue;
    }
    if (s > last) emit(subPiece(p, last, s));
    emit(p.ranges === null ? { text: m[0], start: p.start + s, ranges: null } : subPiece(p, s, s + len));
    last = s + len;
  }
  if (last < text.length) emit(subPiece(p, last, text.length));
}

function regexMatches(re: RegExp, text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  re.lastIndex = 0;
  let m: RegExpExecArray | null = re.exec(text);
  while (m !== null) {
    if (m[0].length === 0) re.lastIndex++;
    else out.push([m.index, m.index + m[0].length]);
    m = re.exec(text);
  }
  return out;
}

function charMatches(text: string, test: (cp: number, ch: string) => boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) as number;
    const n = cp > 0xffff ? 2 : 1;
    if (test(cp, text.slice(i, i + n))) out.push([i, i + n]);
    i += n;
  }
  return out;
}

function bySplit(
  find: (text: string) => Array<[number, number]>,
  behavior: SplitBehavior,
  invert = false,
): PreTokenizer {
  return {
    split(pieces) {
      const out: Piece[] = [];
      for (const p of pieces) splitPiece(p, find(p.text), behavior, invert, out);
      return out;
    },
  };
}

/** The GPT-2 pre-tokenisation regex (Rust `ByteLevel` with `use_regex`). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const isWs = new RegExp(`^[${WHITE_SPACE_CLASS}]$`, "u");

/** Byte-level: optional prefix space, optional GPT-2 regex split, then bytes → printable chars. */
function byteLevel(cfg: Json): PreTokenizer {
  const addPrefixSpace = cfg.add_prefix_space === true;
  const useRegex = cfg.use_regex !== false;
  const re = new RegExp(translateRegex(GPT2_PATTERN), "gu");
  return {
    split(pieces, ctx) {
      const out: Piece[] = [];
      for (let p of pieces) {
        if (addPrefixSpace && !p.text.startsWith(" ")) {
          const [s, e] = pieceRange(p, 0, Math.min(1, p.text.length));
          p = {
            text: ` ${p.text}`,
            start: 0,
            ranges: ctx.offsets ? concatRanges(Int32Array.of(s, e), rangesOf(p)) : null,
          };
        }
        const emit = ctx.offsets
          ? (w: Piece) =>
              out.push({
                text: toByteLevel(w.text),
                start: 0,
                ranges: byteLevelRanges(w.text, (i) => pieceRange(w, i, i + 1)),
              })
          : (w: Piece) => out.push({ text: toByteLevel(w.text), start: 0, ranges: null });
        if (useRegex) isolate(p, re, emit);
        else emit(p);
      }
      return out;
    },
    words(text, emit) {
      const t = addPrefixSpace && !text.startsWith(" ") && text.length > 0 ? ` ${text}` : text;
      if (useRegex) isolateText(t, re, (w) => emit(toByteLevel(w)));
      else emit(toByteLevel(t));
    },
  };
}

function rangesOf(p: Piece): Int32Array {
  if (p.ranges) return p.ranges;
  const r = new Int32Array(p.text.length * 2);
  for (let i = 0; i < p.text.length; i++) {
    r[2 * i] = p.start + i;
    r[2 * i + 1] = p.start + i + 1;
  }
  return r;
}

function concatRanges(a: Int32Array, b: Int32Array): Int32Array {
  const r = new Int32Array(a.length + b.length);
  r.set(a);
  r.set(b, a.length);
  return r;
}

/** Metaspace: spaces become "▁", a "▁" is prepended per `prepend_scheme`, then split before each "▁". */
function metaspace(cfg: Json): PreTokenizer {
  const rep = String(cfg.replacement ?? "▁");
  let scheme = cfg.prepend_scheme as string | undefined;
  if (scheme === undefined) scheme = cfg.add_prefix_space === false ? "never" : "always";
  const split = cfg.split !== false;
  return {
    split(pieces, ctx) {
      const out: Piece[] = [];
      for (const p of pieces) {
        let text = p.text.replaceAll(" ", rep);
        let ranges = rep.length === 1 ? p.ranges : null;
        if (rep.length !== 1 && ctx.offsets) {
          const r: number[] = [];
          for (let i = 0; i < p.text.length; i++) {
            const [s, e] = pieceRange(p, i, i + 1);
            const n = p.text[i] === " " ? rep.length : 1;
            for (let k = 0; k < n; k++) r.push(s, e);
          }
          ranges = Int32Array.from(r);
        }
        let piece: Piece = { text, start: p.start, ranges };
        const atStart = p.text.length > 0 && ctx.ns.originalStart(pieceRange(p, 0, 1)[0]) === 0;
        if (!text.startsWith(rep) && (scheme === "always" || (scheme === "first" && atStart)) && text.length > 0) {
          const [s, e] = pieceRange(p, 0, 1);
          const pre = new Int32Array(rep.length * 2);
          for (let k = 0; k < rep.length; k++) {
            pre[2 * k] = s;
            pre[2 * k + 1] = e;
          }
          text = rep + text;
          piece = { text, start: 0, ranges: concatRanges(pre, rangesOf(piece)) };
        }
        if (!split) out.push(piece);
        else {
          const m: Array<[number, number]> = [];
          for (let i = text.indexOf(rep); i >= 0; i = text.indexOf(rep, i + rep.length)) m.push([i, i + rep.length]);
          splitPiece(piece, m, "MergedWithNext", false, out);
        }
      }
      return out;
    },
  };
}

const WORD_CHAR = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}";

/** Build a pre-tokenizer from its `tokenizer.json` description (null for none). */
export function buildPreTokenizer(cfg: Json | null | undefined): PreTokenizer | null {
  if (!cfg) return null;
  switch (cfg.type) {
    case "Sequence": {
      const parts = ((cfg.pretokenizers as Json[]) ?? []).map(buildPreTokenizer).filter((p) => p !== null);
      const seq: PreTokenizer = {
        split(pieces, ctx) {
          let cur = pieces;
          for (const p of parts) cur = p.split(cur, ctx);
          return cur;
        },
      };
      if (parts.every((p) => p.words)) {
        seq.words = (text, emit) => {
          // Chain the stages: each one's words feed the next.
          let sink = emit;
          for (let k = parts.length - 1; k >= 0; k--) {
            const stage = parts[k];
            const next = sink;
            sink = (w) => stage.words?.(w, next);
          }
          sink(text);
        };
      }
      return seq;
    }
    case "ByteLevel":
      return byteLevel(cfg);
    case "Split": {
      const pat = cfg.pattern as Json | undefined;
      let re: RegExp;
      if (pat && typeof pat.String === "string") re = new RegExp(escapeRegex(pat.String), "gu");
      else if (pat && typeof pat.Regex === "string") re = new RegExp(translateRegex(pat.Regex), "gu");
      else
        throw new Error(`Split pre-tokenizer: 'pattern' must be {"String"} or {"Regex"}, got ${JSON.stringify(pat)}`);
      const behavior = (cfg.behavior as SplitBehavior) ?? "Isolated";
      if (behavior === "Isolated" && cfg.invert !== true) {
        return {
          split(pieces) {
            const out: Piece[] = [];
            const emit = (w: Piece) => out.push(w);
            for (const p of pieces) isolate(p, re, emit);
            return out;
          },
          words: (text, emit) => isolateText(text, re, emit),
        };
      }
      return bySplit((t) => regexMatches(re, t), behavior, cfg.invert === true);
    }
    case "Whitespace": {
      const re = new RegExp(`[${WORD_CHAR}]+|[^${WORD_CHAR}${WHITE_SPACE_CLASS}]+`, "gu");
      return bySplit((t) => regexMatches(re, t), "Removed", true);
    }
    case "WhitespaceSplit":
      return bySplit((t) => charMatches(t, (_, c) => isWs.test(c)), "Removed");
    case "BertPreTokenizer": {
      const ws = bySplit((t) => charMatches(t, (_, c) => isWs.test(c)), "Removed");
      const punct = bySplit((t) => charMatches(t, (cp) => isBertPunctuation(cp)), "Isolated");
      return { split: (pieces, ctx) => punct.split(ws.split(pieces, ctx), ctx) };
    }
    case "Punctuation":
      return bySplit(
        (t) => charMatches(t, (cp) => isBertPunctuation(cp)),
        (cfg.behavior as SplitBehavior) ?? "Isolated",
      );
    case "Digits": {
      const individual = cfg.individual_digits === true;
      return bySplit((t) => charMatches(t, (_, c) => /^\p{N}$/u.test(c)), individual ? "Isolated" : "Contiguous");
    }
    case "CharDelimiterSplit": {
      const d = String(cfg.delimiter);
      return bySplit((t) => charMatches(t, (_, c) => c === d), "Removed");
    }
    case "Metaspace":
      return metaspace(cfg);
    default:
      throw new UnsupportedComponent(`pre_tokenizer type ${JSON.stringify(cfg.type)}`);
  }
}
