/**
 * Decoding as transformers' slow `LlamaTokenizer` (4.40) does it: `_decode` splits out non-special
 * added tokens, `convert_tokens_to_string` drops the first token's "▁", keeps special tokens
 * verbatim (with a space before them in legacy mode) and hands the rest to SentencePiece.
 */
import type { Pipeline } from "../pipeline/core.ts";
import { spDecodePieces } from "./model.ts";
import type { SpModelProto } from "./proto.ts";

export function llamaSlowDecoder(
  proto: SpModelProto,
  pipeline: Pipeline,
  legacy: boolean,
  allSpecialTokens: () => string[],
): (ids: number[], skipSpecialTokens: boolean) => string {
  const vocab = new Map<string, number>();
  proto.pieces.forEach((p, id) => {
    if (!vocab.has(p.piece)) vocab.set(p.piece, id);
  });
  // The SentencePiece processor the slow tokenizer holds: legacy=false loads it without the dummy prefix.
  const stripLeading = (legacy && proto.normalizer.addDummyPrefix) || proto.normalizer.removeExtraWhitespaces;
  const sp = (pieces: string[]) => spDecodePieces(proto, vocab, pieces, stripLeading);

  const tokensToString = (tokens: string[], special: Set<string>): string => {
    const toks = tokens.slice();
    if (toks[0].startsWith("\u2581")) toks[0] = toks[0].slice(1);
    let out = "";
    let sub: string[] = [];
    let prevSpecial = false;
    toks.forEach((t, i) => {
      if (special.has(t)) {
        if (!prevSpecial && i !== 0 && legacy) out += " ";
        out += sp(sub) + t;
        prevSpecial = true;
        sub = [];
      } else {
        sub.push(t);
        prevSpecial = false;
      }
    });
    return out + sp(sub);
  };

  return (ids, skip) => {
    const special = new Set(allSpecialTokens());
    const specialIds = new Set<number>();
    for (const t of special) {
      const id = pipeline.tokenToId(t);
      if (id !== undefined) specialIds.add(id);
    }
    const addedNonSpecial = new Set(pipeline.addedTokens.filter((t) => !special.has(t.content)).map((t) => t.content));
    const subTexts: string[] = [];
    let current: string[] = [];
    for (const id of ids) {
      if (skip && specialIds.has(id)) continue;
      const tok = pipeline.idToToken(id) as string;
      if (addedNonSpecial.has(tok)) {
        if (current.length) {
          const s = tokensToString(current, special);
          if (s.length > 0) subTexts.push(s);
          current = [];
        }
        subTexts.push(tok);
      } else current.push(tok);
    }
    if (current.length) subTexts.push(tokensToString(current, special));
    return subTexts.join(" ");
  };
}
