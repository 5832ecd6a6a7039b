/** Decoders of `tokenizer.json` (the `decoder` field): token strings back to text. */
import { fromByteLevel } from "./byte-level.ts";
import { escapeRegex, type Json, UnsupportedComponent } from "./normalizers.ts";
import { translateRegex } from "./unicode.ts";

export interface Decoder {
  /** Rust `decode_chain`: transform the token list; the final text is the concatenation. */
  decodeChain(tokens: string[]): string[];
}

/** The per-token clean-up of the WordPiece decoder (and transformers' `clean_up_tokenization`). */
export function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

function wordPieceCleanup(s: string): string {
  return cleanUpTokenization(s).replaceAll(" do not", " don't");
}

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function buildDecoder(cfg: Json | null | undefined): Decoder | null {
  if (!cfg) return null;
  switch (cfg.type) {
    case "Sequence": {
      const parts = ((cfg.decoders as Json[]) ?? []).map(buildDecoder).filter((d) => d !== null);
      return {
        decodeChain(tokens) {
          let cur = tokens;
          for (const d of parts) cur = d.decodeChain(cur);
          return cur;
        },
      };
    }
    case "ByteLevel":
      return { decodeChain: (tokens) => [fromByteLevel(tokens.join(""))] };
    case "WordPiece": {
      const prefix = String(cfg.prefix ?? "##");
      const cleanup = cfg.cleanup !== false;
      return {
        decodeChain: (tokens) =>
          tokens.map((t, i) => {
            let s = t;
            if (i !== 0) s = s.startsWith(prefix) ? s.slice(prefix.length) : ` ${s}`;
            return cleanup ? wordPieceCleanup(s) : s;
          }),
      };
    }
    case "Metaspace": {
      const rep = String(cfg.replacement ?? "▁");
      let scheme = cfg.prepend_scheme as string | undefined;
      if (scheme === undefined) scheme = cfg.add_prefix_space === false ? "never" : "always";
      return {
        decodeChain: (tokens) =>
          tokens.map((t, i) => {
            let s = t.replaceAll(rep, " ");
            if (i === 0 && scheme !== "never" && s.startsWith(" ")) s = s.slice(1);
            return s;
          }),
      };
    }
    case "Replace": {
      const p = cfg.pattern as Json;
      const re =
        typeof p?.String === "string"
          ? new RegExp(escapeRegex(p.String), "gu")
          : new RegExp(translateRegex(String(p?.Regex)), "gu");
      const content = String(cfg.content ?? "");
      return { decodeChain: (tokens) => tokens.map((t) => t.replace(re, () => content)) };
    }
    case "ByteFallback":
      return {
        decodeChain(tokens) {
          const out: string[] = [];
          let bytes: number[] = [];
          const flush = () => {
            if (bytes.length === 0) return;
            try {
              out.push(utf8.decode(new Uint8Array(bytes)));
            } catch {
              for (let i = 0; i < bytes.length; i++) out.push("\ufffd");
            }
            bytes = [];
          };
          for (const t of tokens) {
            const m = BYTE_TOKEN.exec(t);
            if (m) bytes.push(Number.parseInt(m[1], 16));
            else {
              flush();
              out.push(t);
            }
          }
          flush();
          return out;
        },
      };
    case "Fuse":
      return { decodeChain: (tokens) => [tokens.join("")] };
    case "Strip": {
      const content = String(cfg.content ?? " ");
      const start = Number(cfg.start ?? 0);
      const stop = Number(cfg.stop ?? 0);
      return {
        decodeChain: (tokens) =>
          tokens.map((t) => {
            let a = 0;
            let b = t.length;
            for (let k = 0; k < start && t.startsWith(content, a); k++) a += content.length;
            for (let k = 0; k < stop && b - content.length >= a && t.startsWith(content, b - content.length); k++) {
              b -= content.length;
            }
            return t.slice(a, b);
          }),
      };
    }
    case "BPEDecoder": {
      const suffix = String(cfg.suffix ?? "</w>");
      return {
        decodeChain: (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? "" : " ")),
      };
    }
    case "CTC": {
      const pad = String(cfg.pad_token ?? "<pad>");
      const delim = String(cfg.word_delimiter_token ?? "|");
      const cleanup = cfg.cleanup !== false;
      return {
        decodeChain(tokens) {
          const dedup = tokens.filter((t, i) => i === 0 || t !== tokens[i - 1]);
          return dedup
            .filter((t) => t !== pad)
            .map((t) => {
              const s = t.replaceAll(delim, " ");
              return cleanup ? wordPieceCleanup(s).trim() : s;
            });
        },
      };
    }
    default:
      throw new UnsupportedComponent(`decoder type ${JSON.stringify(cfg.type)}`);
  }
}
