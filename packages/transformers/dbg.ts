import { readFileSync } from "node:fs";
import { AutoTokenizer } from "./src/index.ts";

const text = readFileSync("../../../shared/data/datasets/text/tinyshakespeare.txt", "utf8");
const tok = await AutoTokenizer.fromPretrained("../../../shared/data/tokenizers/llama3-bpe");
tok.encode(text);
const t = performance.now();
for (let r = 0; r < 5; r++) tok.encode(text);
console.log("MB/s", ((5 * 1.115) / ((performance.now() - t) / 1000)).toFixed(2));
