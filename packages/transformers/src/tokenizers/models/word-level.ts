/** WordLevel: each pre-tokenised word maps to one id (or the unk token). Missing from `@huggingface/tokenizers`. */
import { ErrorCodes, fail } from "../../errors.ts";
import type { TokenModel, WordTokens } from "./model.ts";

export class WordLevelModel implements TokenModel {
  readonly vocab: Map<string, number>;
  private readonly idToTok: string[] = [];
  private readonly unkId: number | undefined;
  readonly unkToken: string | null;

  constructor(vocab: Map<string, number>, unkToken: string | null) {
    this.vocab = vocab;
    this.unkToken = unkToken;
    for (const [t, id] of vocab) this.idToTok[id] = t;
    this.unkId = unkToken === null ? undefined : vocab.get(unkToken);
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  tokenize(word: string): WordTokens {
    const id = this.vocab.get(word) ?? this.unkId;
    if (id === undefined) {
      throw fail(
        ErrorCodes.TOKENIZER_UNKNOWN_TOKEN,
        `WordLevel: ${JSON.stringify(word)} is not in the vocabulary and the model has no unk_token`,
      );
    }
    return { ids: [id], starts: [0], ends: [word.length] };
  }
}
