/**
 * A Space built with @hearth/spaces: a tiny text classifier over a real checkpoint (the
 * hf-tiny BERT sequence-classification fixture). Words are hashed into the vocabulary, their
 * embeddings averaged and fed to the classification head. Runs locally (`npx tsx app.ts`) and
 * unchanged as a Space (the hub sets PORT).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { demo, json, label, progress, text } from "@hearth/spaces";
import { embedding, linear, mean, safetensors, softmax, tensor } from "@hearth/tensor";
import { parse } from "yaml";

const VERSION = "v1";
const here = process.cwd();
const card = parse(/^---\n([\s\S]*?)\n---/.exec(readFileSync(join(here, "README.md"), "utf8"))?.[1] ?? "") as {
  short_description?: string;
};
const config = JSON.parse(readFileSync(join(here, "config.json"), "utf8")) as {
  vocab_size: number;
  id2label: Record<string, string>;
};
const weights = safetensors.loadTensors(
  safetensors.deserialize(new Uint8Array(readFileSync(join(here, "model.safetensors")))),
);
const get = (name: string) => {
  const t = weights.get(name);
  if (!t) throw new Error(`model.safetensors has no tensor '${name}'`);
  return t;
};
const wordEmbeddings = get("bert.embeddings.word_embeddings.weight");
const classifierWeight = get("classifier.weight");
const classifierBias = get("classifier.bias");
const labels = Object.keys(config.id2label)
  .sort((a, b) => Number(a) - Number(b))
  .map((k) => config.id2label[k] as string);

console.log(`secret seen by the app: ${process.env.SECRET_TOKEN ?? "(none)"}`);

function ids(s: string): number[] {
  const words = s.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  return words.map((w) => createHash("sha1").update(w).digest().readUInt32BE(0) % config.vocab_size);
}

export const app = demo({
  title: `Tiny classifier ${VERSION}`,
  description: card.short_description,
  inputs: [text({ label: "Text", placeholder: "Type a sentence" })],
  outputs: [label({ label: "Class" }), json({ label: "Details" })],
  examples: [["what a lovely day"], ["the worst film I have seen"]],
  // parameters unannotated: their types come from `inputs` (and a tuple return type checks)
  fn: (s) => {
    if (process.env.CRASH_WORD && s === process.env.CRASH_WORD) process.exit(3);
    const tokens = ids(s);
    if (tokens.length === 0) return [{}, { tokens: 0, version: VERSION }];
    progress(0.5, "embedding");
    const pooled = mean(embedding(tensor(tokens, { dtype: "int32" }), wordEmbeddings), 0);
    const probs = softmax(linear(pooled, classifierWeight, classifierBias), -1).dataSync() as Float32Array;
    const scores = Object.fromEntries(labels.map((l, i) => [l, probs[i] as number]));
    const secret = process.env.SECRET_TOKEN;
    return [
      scores,
      {
        tokens: tokens.length,
        version: VERSION,
        secretSha256: secret ? createHash("sha256").update(secret).digest("hex") : null,
      },
    ];
  },
});

await app.launch();
