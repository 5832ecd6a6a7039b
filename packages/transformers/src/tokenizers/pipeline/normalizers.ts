/** Normalizers of `tokenizer.json` (the `normalizer` field), with exact offset alignment. */
import { toByteLevel } from "./byte-level.ts";
import { CharsMap } from "./charsmap.ts";
import { markClusters, type NormalizedString } from "./normalized.ts";
import { isBertControl, isBertWhitespace, isChineseChar, translateRegex } from "./unicode.ts";

export type Json = Record<string, unknown>;

/** One normalisation step: rewrites a {@link NormalizedString} in place. */
export interface Normalizer {
  normalize(ns: NormalizedString): void;
}

/** Thrown (and turned into a coded error by the loader) for unknown component types. */
export class UnsupportedComponent extends Error {}

function unicodeForm(form: "NFC" | "NFD" | "NFKC" | "NFKD"): Normalizer {
  return {
    normalize(ns) {
      const whole = ns.text.normalize(form);
      if (whole === ns.text) return;
      // Normalise cluster by cluster to keep alignment; fall back to the whole string if that differs.
      const saved = [ns.text, ns.starts, ns.ends] as const;
      ns.transformChunks(markClusters(ns.text), (c) => c.normalize(form));
      if (ns.text !== whole) {
        [ns.text, ns.starts, ns.ends] = saved;
        ns.transformChunks([saved[0]], () => whole);
      }
    },
  };
}

function stripAccents(ns: NormalizedString): void {
  ns.transformChunks(markClusters(ns.text), (c) => {
    // Rust removes combining marks (Mn) after NFD from the char stream.
    return c.normalize("NFD").replace(/\p{Mn}/gu, "");
  });
}

function lowercase(ns: NormalizedString): void {
  if (ns.text.toLowerCase() === ns.text) return;
  ns.mapCodePoints((c) => c.toLowerCase());
}

/** `BertNormalizer`: clean text, pad CJK ideographs, strip accents, lowercase. */
function bertNormalizer(cfg: Json): Normalizer {
  const cleanText = cfg.clean_text !== false;
  const chinese = cfg.handle_chinese_chars !== false;
  const lower = cfg.lowercase !== false;
  const strip = cfg.strip_accents === null || cfg.strip_accents === undefined ? lower : cfg.strip_accents === true;
  return {
    normalize(ns) {
      if (cleanText) {
        ns.mapCodePoints((c) => {
          const cp = c.codePointAt(0) as number;
          if (cp === 0 || cp === 0xfffd || isBertControl(c)) return "";
          return isBertWhitespace(c) ? " " : c;
        });
      }
      if (chinese) ns.mapCodePoints((c) => (isChineseChar(c.codePointAt(0) as number) ? ` ${c} ` : c));
      if (strip) stripAccents(ns);
      if (lower) lowercase(ns);
    },
  };
}

function patternOf(cfg: Json, where: string): RegExp {
  const p = cfg.pattern as Json | undefined;
  if (p && typeof p.String === "string") return new RegExp(escapeRegex(p.String), "gu");
  if (p && typeof p.Regex === "string") return new RegExp(translateRegex(p.Regex), "gu");
  throw new Error(`${where}: 'pattern' must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(p)}`);
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** Rewrite every regex match with `content`; the replacement aligns to the whole match. */
function replaceAll(ns: NormalizedString, re: RegExp, content: string): void {
  const text = ns.text;
  const chunks: string[] = [];
  const isMatch: boolean[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    const start = m.index as number;
    if (m[0].length === 0) continue;
    if (start > last) {
      chunks.push(text.slice(last, start));
      isMatch.push(false);
    }
    chunks.push(m[0]);
    isMatch.push(true);
    last = start + m[0].length;
  }
  if (chunks.length === 0) return;
  if (last < text.length) {
    chunks.push(text.slice(last));
    isMatch.push(false);
  }
  let k = 0;
  ns.transformChunks(chunks, (c) => (isMatch[k++] ? content : c));
}

/** The `Precompiled` normalizer: SentencePiece charsmap applied grapheme by grapheme (Rust `tokenizers` rules). */
function precompiled(cfg: Json): Normalizer {
  const b64 = cfg.precompiled_charsmap;
  if (typeof b64 !== "string" || b64.length === 0) return { normalize() {} };
  const map = new CharsMap(new Uint8Array(Buffer.from(b64, "base64")));
  const enc = new TextEncoder();
  const lookup = (s: string): string | null => {
    const bytes = enc.encode(s);
    const m = map.prefixMatches(bytes, 0);
    return m.length === 0 ? null : map.replacement(m[0][1]);
  };
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return {
    normalize(ns) {
      const graphemes = Array.from(seg.segment(ns.text), (s) => s.segment);
      // A grapheme either maps as a whole (when short) or char by char; split chunks accordingly.
      const chunks: string[] = [];
      const outs: string[] = [];
      for (const g of graphemes) {
        if (enc.encode(g).length < 6) {
          const r = lookup(g);
          if (r !== null) {
            chunks.push(g);
            outs.push(r);
            continue;
          }
        }
        for (const c of g) {
          chunks.push(c);
          outs.push(lookup(c) ?? c);
        }
      }
      let k = 0;
      ns.transformChunks(chunks, () => outs[k++]);
    },
  };
}

/** Build a normalizer from its `tokenizer.json` description (null for none). */
export function buildNormalizer(cfg: Json | null | undefined): Normalizer | null {
  if (!cfg) return null;
  switch (cfg.type) {
    case "Sequence": {
      const parts = ((cfg.normalizers as Json[]) ?? []).map(buildNormalizer).filter((n) => n !== null);
      return {
        normalize(ns) {
          for (const n of parts) n.normalize(ns);
        },
      };
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD":
      return unicodeForm(cfg.type);
    case "Lowercase":
      return { normalize: lowercase };
    case "StripAccents":
      return { normalize: stripAccents };
    case "BertNormalizer":
      return bertNormalizer(cfg);
    case "Strip": {
      const left = cfg.strip_left !== false;
      const right = cfg.strip_right !== false;
      return {
        normalize(ns) {
          const t = ns.text;
          let a = 0;
          let b = t.length;
          if (left) while (a < b && isBertWhitespace(t[a])) a++;
          if (right) while (b > a && isBertWhitespace(t[b - 1])) b--;
          ns.slice(a, b);
        },
      };
    }
    case "Replace": {
      const re = patternOf(cfg, "Replace normalizer");
      const content = String(cfg.content ?? "");
      return { normalize: (ns) => replaceAll(ns, re, content) };
    }
    case "Prepend": {
      const p = String(cfg.prepend ?? "");
      return { normalize: (ns) => ns.prepend(p) };
    }
    case "Precompiled":
      return precompiled(cfg);
    case "ByteLevel":
      // Each character becomes the byte-level spelling of its UTF-8 bytes (all aligned to it).
      return { normalize: (ns) => ns.mapCodePoints(toByteLevel) };
    case "Nmt":
      return {
        normalize(ns) {
          ns.mapCodePoints((c) => {
            const cp = c.codePointAt(0) as number;
            if (
              (cp >= 1 && cp <= 8) ||
              cp === 0xb ||
              (cp >= 0xe && cp <= 0x1f) ||
              cp === 0x7f ||
              cp === 0x8f ||
              cp === 0x9f
            )
              return "";
            if (
              cp === 9 ||
              cp === 10 ||
              cp === 0xc ||
              cp === 0xd ||
              cp === 0x1680 ||
              (cp >= 0x200b && cp <= 0x200f) ||
              cp === 0x2028 ||
              cp === 0x2029 ||
              cp === 0x2581 ||
              cp === 0xfeff ||
              cp === 0xfffd
            )
              return " ";
            return c;
          });
        },
      };
    default:
      throw new UnsupportedComponent(`normalizer type ${JSON.stringify(cfg.type)}`);
  }
}
