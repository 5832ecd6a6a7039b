/** Markdown for model cards: raw HTML is escaped and `javascript:` links are dropped. */
import { Marked } from "marked";
import { esc } from "./html.ts";

const safeHref = (href: string) => (/^\s*(javascript|vbscript|data):/i.test(href) ? "#" : href);

const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text }) {
      return esc(text);
    },
    link({ href, title, tokens }) {
      const inner = this.parser.parseInline(tokens);
      return `<a href="${esc(safeHref(href))}"${title ? ` title="${esc(title)}"` : ""} rel="nofollow noopener">${inner}</a>`;
    },
    image({ href, title, text }) {
      return `<img src="${esc(safeHref(href))}" alt="${esc(text)}"${title ? ` title="${esc(title)}"` : ""} style="max-width:100%">`;
    },
  },
});

export function renderMarkdown(md: string): string {
  return marked.parse(md, { async: false }) as string;
}
