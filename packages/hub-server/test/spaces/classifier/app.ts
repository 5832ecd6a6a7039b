/**
 * A Space built with @hearth/spaces around a pipeline: text classification with the hf-tiny BERT
 * checkpoint in `model/` (weights pushed with git-lfs). Runs locally (`npx tsx app.ts`) and
 * unchanged as a Space (the hub sets PORT).
 */
import { demo, label, text } from "@hearth/spaces";
import { pipeline } from "@hearth/transformers";

const classify = await pipeline("text-classification", "model");
await demo({
  title: "Tiny classifier v1",
  inputs: [text({ label: "Text", placeholder: "Type a sentence" })],
  outputs: [label({ label: "Class" })],
  examples: [["what a lovely day"], ["the worst film i have seen"]],
  fn: async (s) => Object.fromEntries((await classify.call(s, { topK: null })).flat().map((r) => [r.label, r.score])),
}).launch();
