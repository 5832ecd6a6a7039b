/** Syntax highlighting for the file view (highlight.js, language chosen by extension). */
import hljs from "highlight.js/lib/common";
import { esc } from "./html.ts";

const byExt: Record<string, string> = {
  py: "python",
  json: "json",
  jsonl: "json",
  md: "markdown",
  yaml: "yaml",
  yml: "yaml",
  js: "javascript",
  mjs: "javascript",
  ts: "typescript",
  sh: "bash",
  toml: "ini",
  ini: "ini",
  cfg: "ini",
  html: "xml",
  xml: "xml",
  css: "css",
  rs: "rust",
  go: "go",
  c: "c",
  h: "c",
  cpp: "cpp",
  java: "java",
  txt: "plaintext",
  csv: "plaintext",
  gitattributes: "plaintext",
};

/** Highlighted HTML for `code`; plain escaped text when the language is unknown. */
export function highlight(path: string, code: string): string {
  const ext = (path.split(".").pop() ?? "").toLowerCase();
  const lang = byExt[ext];
  if (!lang || lang === "plaintext" || !hljs.getLanguage(lang)) return esc(code);
  return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
}
