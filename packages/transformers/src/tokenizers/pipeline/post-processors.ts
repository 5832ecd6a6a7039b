/** Post-processors of `tokenizer.json` (the `post_processor` field): special tokens and type ids. */
import { type Json, UnsupportedComponent } from "./normalizers.ts";

/** An encoding under construction; offsets are flat [start, end] pairs (absent when not wanted). */
export interface RawEncoding {
  ids: number[];
  typeIds: number[];
  specialMask: number[];
  offsets: number[] | null;
  /** Which input sequence (0 or 1) each token came from; -1 for added special tokens. */
  sequenceIds: number[];
  overflowing: RawEncoding[];
}

export function emptyEncoding(withOffsets: boolean): RawEncoding {
  return { ids: [], typeIds: [], specialMask: [], offsets: withOffsets ? [] : null, sequenceIds: [], overflowing: [] };
}

export interface PostProcessor {
  /** How many tokens `process` adds for one sequence or a pair. */
  addedTokens(isPair: boolean): number;
  process(a: RawEncoding, b: RawEncoding | null, addSpecialTokens: boolean): RawEncoding;
  /** Adjust offsets only (ByteLevel trimming); applied even when special tokens are off. */
  trimOffsets?(enc: RawEncoding, idToToken: (id: number) => string): void;
}

type Piece = { special: [string, number[], number] } | { seq: 0 | 1; typeId: number };

function pushSpecial(out: RawEncoding, id: number, typeId: number): void {
  out.ids.push(id);
  out.typeIds.push(typeId);
  out.specialMask.push(1);
  out.offsets?.push(0, 0);
  out.sequenceIds.push(-1);
}

function pushSeq(out: RawEncoding, e: RawEncoding, typeId: number, seq: number): void {
  for (let i = 0; i < e.ids.length; i++) {
    out.ids.push(e.ids[i]);
    out.typeIds.push(typeId);
    out.specialMask.push(e.specialMask[i]);
    if (out.offsets && e.offsets) out.offsets.push(e.offsets[2 * i], e.offsets[2 * i + 1]);
    out.sequenceIds.push(seq);
  }
}

function templateProcessor(single: Piece[], pair: Piece[]): PostProcessor {
  const count = (t: Piece[]) => t.reduce((n, p) => n + ("special" in p ? p.special[1].length : 0), 0);
  const apply = (t: Piece[], a: RawEncoding, b: RawEncoding | null): RawEncoding => {
    const out = emptyEncoding(a.offsets !== null);
    for (const p of t) {
      if ("special" in p) {
        const [, ids, typeId] = p.special;
        for (const id of ids) pushSpecial(out, id, typeId);
      } else {
        const e = p.seq === 0 ? a : b;
        if (e) pushSeq(out, e, p.typeId, p.seq);
      }
    }
    return out;
  };
  const isIdentity = (t: Piece[]) => t.length === 1 && !("special" in t[0]) && t[0].seq === 0;
  return {
    addedTokens: (isPair) => count(isPair ? pair : single),
    process(a, b, add) {
      // A lone sequence passes through unchanged: no copy (the common no-special-token case).
      if (!b && (!add || isIdentity(single)) && a.typeIds.every((t) => t === 0)) return a;
      if (!add) {
        const out = emptyEncoding(a.offsets !== null);
        pushSeq(out, a, 0, 0);
        if (b) pushSeq(out, b, 1, 1);
        return out;
      }
      const res = apply(b ? pair : single, a, b);
      res.overflowing = a.overflowing.map((o) => apply(b ? pair : single, o, b));
      return res;
    },
  };
}

function parseTemplate(t: unknown, specials: Json): Piece[] {
  if (!Array.isArray(t)) return [];
  return t.map((item: Json) => {
    if (item.SpecialToken) {
      const st = item.SpecialToken as Json;
      const name = String(st.id);
      const def = specials[name] as Json | undefined;
      const ids = def ? (def.ids as number[]) : [];
      const tokens = def ? (def.tokens as string[]) : [name];
      return { special: [tokens[0] ?? name, ids, Number(st.type_id ?? 0)] } as Piece;
    }
    const s = item.Sequence as Json;
    return { seq: s.id === "B" ? 1 : 0, typeId: Number(s.type_id ?? 0) } as Piece;
  });
}

/** Move offsets past leading/trailing "Ġ" (spaces) of byte-level tokens, like Rust's `process_offsets`. */
function byteLevelTrim(enc: RawEncoding, idToToken: (id: number) => string): void {
  if (!enc.offsets) return;
  for (let i = 0; i < enc.ids.length; i++) {
    if (enc.specialMask[i]) continue;
    const t = idToToken(enc.ids[i]);
    let lead = 0;
    while (lead < t.length && t[lead] === "\u0120") lead++;
    let trail = 0;
    if (lead < t.length) while (trail < t.length && t[t.length - 1 - trail] === "\u0120") trail++;
    const s = enc.offsets[2 * i];
    const e = enc.offsets[2 * i + 1];
    if (lead > 0 && lead < t.length) enc.offsets[2 * i] = Math.min(s + lead, e);
    if (trail > 0) enc.offsets[2 * i + 1] = Math.max(e - trail, enc.offsets[2 * i]);
  }
  for (const o of enc.overflowing) byteLevelTrim(o, idToToken);
}

export function buildPostProcessor(cfg: Json | null | undefined): PostProcessor | null {
  if (!cfg) return null;
  switch (cfg.type) {
    case "TemplateProcessing": {
      const specials = (cfg.special_tokens as Json) ?? {};
      return templateProcessor(parseTemplate(cfg.single, specials), parseTemplate(cfg.pair, specials));
    }
    case "BertProcessing":
    case "RobertaProcessing": {
      const [sepTok, sepId] = cfg.sep as [string, number];
      const [clsTok, clsId] = cfg.cls as [string, number];
      const cls: Piece = { special: [clsTok, [clsId], 0] };
      const sep: Piece = { special: [sepTok, [sepId], 0] };
      const bert = cfg.type === "BertProcessing";
      const single: Piece[] = [cls, { seq: 0, typeId: 0 }, sep];
      const pair: Piece[] = bert
        ? [cls, { seq: 0, typeId: 0 }, sep, { seq: 1, typeId: 1 }, { special: [sepTok, [sepId], 1] }]
        : [cls, { seq: 0, typeId: 0 }, sep, sep, { seq: 1, typeId: 0 }, sep];
      const p = templateProcessor(single, pair);
      if (!bert && cfg.trim_offsets !== false) p.trimOffsets = byteLevelTrim;
      return p;
    }
    case "ByteLevel": {
      const p = templateProcessor(
        [{ seq: 0, typeId: 0 }],
        [
          { seq: 0, typeId: 0 },
          { seq: 1, typeId: 1 },
        ],
      );
      if (cfg.trim_offsets !== false) p.trimOffsets = byteLevelTrim;
      return p;
    }
    case "Sequence": {
      const parts = ((cfg.processors as Json[]) ?? []).map(buildPostProcessor).filter((p) => p !== null);
      return {
        addedTokens: (isPair) => parts.reduce((n, p) => n + p.addedTokens(isPair), 0),
        process(a, b, add) {
          // Only one processor of a sequence adds tokens in practice (ByteLevel + Template).
          const adder = parts.find((p) => p.addedTokens(b !== null) > 0) ?? parts[parts.length - 1];
          return adder ? adder.process(a, b, add) : a;
        },
        trimOffsets(enc, idToToken) {
          for (const p of parts) p.trimOffsets?.(enc, idToToken);
        },
      };
    }
    default:
      throw new UnsupportedComponent(`post_processor type ${JSON.stringify(cfg.type)}`);
  }
}
