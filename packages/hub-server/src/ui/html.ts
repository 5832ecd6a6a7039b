/** Tiny server-side HTML helpers: escaping, the page layout and its stylesheet. */
import type { Caller } from "../repos/service.ts";

export const esc = (s: unknown): string =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/** A pre-escaped HTML fragment. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Tagged template that escapes every interpolation except {@link Html} values and arrays of them. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] as string;
  values.forEach((v, i) => {
    const part = Array.isArray(v)
      ? v.map((x) => (x instanceof Html ? x.value : esc(x))).join("")
      : v instanceof Html
        ? v.value
        : v === undefined || v === null || v === false
          ? ""
          : esc(v);
    out += part + (strings[i + 1] as string);
  });
  return new Html(out);
}

export const raw = (s: string): Html => new Html(s);

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

const css = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
a{color:#0b57d0;text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;gap:16px;align-items:center;padding:10px 24px;border-bottom:1px solid #e5e7eb;background:#fafafa}
header.top .logo{font-weight:700;font-size:18px;color:#111}header.top .logo span{color:#e8590c}
header.top form{flex:1;max-width:420px}header.top input[type=search]{width:100%;padding:6px 10px;border:1px solid #d0d7de;border-radius:8px}
header.top nav{display:flex;gap:14px;margin-left:auto;align-items:center}
main{max-width:1100px;margin:0 auto;padding:20px 24px}
h1.repo{font-size:22px;margin:0 0 6px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.kind{font-size:12px;text-transform:uppercase;color:#57606a;border:1px solid #d0d7de;border-radius:6px;padding:1px 6px}
.badge{display:inline-block;font-size:12px;background:#f1f3f5;border:1px solid #e5e7eb;border-radius:12px;padding:1px 9px;margin:2px 4px 2px 0;color:#333}
.badge.private{background:#fff4e6;border-color:#ffd8a8}.badge.lfs{background:#e7f5ff;border-color:#a5d8ff}
.tabs{display:flex;gap:4px;border-bottom:1px solid #e5e7eb;margin:14px 0 18px}
.tabs a{padding:8px 14px;border-bottom:2px solid transparent;color:#333}.tabs a.on{border-color:#e8590c;font-weight:600}
table.files,table.grid{border-collapse:collapse;width:100%}table.files td{padding:6px 10px;border-bottom:1px solid #eee}
table.files td.size{text-align:right;color:#57606a;white-space:nowrap}table.files tr:hover{background:#f8f9fa}
.flame{display:inline-block;width:14px;height:14px;border-radius:50% 0 50% 50%;transform:rotate(-45deg);background:linear-gradient(135deg,#ffd43b,#e8590c);margin-right:8px}
.ico{display:inline-block;width:12px;height:14px;margin-right:8px;vertical-align:-2px;border:1.5px solid #868e96;border-radius:2px}.ico.dir{border-color:#e8590c;background:#fff4e6;width:14px;height:11px;vertical-align:-1px}
.card table{border-collapse:collapse;margin:10px 0}.card th,.card td{border:1px solid #e5e7eb;padding:4px 10px}.card th{background:#f6f8fa}
table.grid{font-size:13px}table.grid th,table.grid td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;max-width:280px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
table.grid th{background:#f6f8fa}.scroll{overflow-x:auto;margin-bottom:18px}
.card{border:1px solid #e5e7eb;border-radius:10px;padding:4px 22px;margin-bottom:18px}
.card pre,.code pre{background:#f6f8fa;padding:12px;border-radius:8px;overflow-x:auto}
.code{border:1px solid #e5e7eb;border-radius:10px;overflow:hidden}.code .bar{padding:6px 12px;background:#f6f8fa;border-bottom:1px solid #e5e7eb;display:flex;justify-content:space-between}
.code pre{margin:0;border-radius:0;background:#fff;font-size:13px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px;margin:8px 0 14px}
.list{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.list a.item{display:block;border:1px solid #e5e7eb;border-radius:10px;padding:10px 14px;color:inherit}.list a.item:hover{border-color:#adb5bd;text-decoration:none}
.list .id{font-weight:600}.muted{color:#57606a;font-size:13px}
form.box{max-width:420px;display:grid;gap:10px}form.box input,form.box select{padding:7px 10px;border:1px solid #d0d7de;border-radius:8px}
button{padding:7px 14px;border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa;cursor:pointer}button.primary{background:#e8590c;color:#fff;border-color:#e8590c}
.notice{background:#ebfbee;border:1px solid #b2f2bb;padding:10px 14px;border-radius:8px;margin-bottom:14px;word-break:break-all}
.error{background:#fff5f5;border:1px solid #ffc9c9;padding:10px 14px;border-radius:8px;margin-bottom:14px}
.hljs-keyword,.hljs-selector-tag,.hljs-built_in{color:#cf222e}.hljs-string,.hljs-attr{color:#0a3069}.hljs-number,.hljs-literal{color:#0550ae}
.hljs-comment{color:#6e7781;font-style:italic}.hljs-title,.hljs-section{color:#8250df}.hljs-name,.hljs-tag{color:#116329}.hljs-meta{color:#953800}
`;

/** The page shell: top bar with search and sign-in state, then `body`. */
export function layout(title: string, caller: Caller | undefined, body: Html, search = ""): string {
  const nav = caller
    ? html`<a href="/settings/tokens">Access tokens</a><span class="muted">${caller.user.name}</span><form method="post" action="/logout" style="display:inline"><button>Sign out</button></form>`
    : html`<a href="/login">Sign in</a>`;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title} · Hearth</title><style>${raw(css)}</style></head>
<body><header class="top"><a class="logo" href="/"><i class="flame"></i>Hearth<span>.</span></a><form action="/" method="get"><input type="search" name="search" placeholder="Search models and datasets" value="${search}"></form>
<nav><a href="/?type=models">Models</a><a href="/?type=datasets">Datasets</a>${nav}</nav></header><main>${body}</main></body></html>`}`;
}
