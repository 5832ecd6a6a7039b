/** Server-rendered web UI: home with search, repo pages (card, files, commits, file view, dataset preview). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RepoRow, RepoType } from "../db/types.ts";
import { HubServerError } from "../errors.ts";
import type { FileEntry } from "../git/repo.ts";
import { parseCard } from "../repos/card.ts";
import { urlPrefix } from "../repos/names.ts";
import { highlight } from "../ui/highlight.ts";
import { esc, formatSize, type Html, html, layout, raw } from "../ui/html.ts";
import { renderMarkdown } from "../ui/markdown.ts";
import { cellText, previewable, previewRows } from "../ui/preview.ts";
import { uiAuthRoutes } from "./ui-auth.ts";

const TEXT_VIEW_MAX = 1024 * 1024;
const PREVIEW_MAX = 32 * 1024 * 1024;

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(uiAuthRoutes);
  const page = (reply: FastifyReply, req: FastifyRequest, title: string, body: Html, search = "") =>
    reply.type("text/html; charset=utf-8").send(layout(title, req.caller, body, search));
  const notFound = (reply: FastifyReply, req: FastifyRequest, what: string) =>
    reply
      .code(404)
      .type("text/html; charset=utf-8")
      .send(layout("Not found", req.caller, html`<h1>404</h1><p>${what}</p>`));

  /** Reads up to `max` bytes of a file (LFS objects from the store). */
  async function readContent(r: RepoRow, e: FileEntry, max: number): Promise<Buffer | undefined> {
    if (e.lfs) {
      if (!(await app.hub.blobs.stat(e.lfs.oid))) return undefined;
      const chunks: Buffer[] = [];
      for await (const c of app.hub.blobs.read(e.lfs.oid, { start: 0, end: Math.min(e.lfs.size, max) - 1 }))
        chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    }
    const b = await app.hub.repos.git(r).readBlob(e.oid);
    return b.subarray(0, max);
  }

  app.get<{ Querystring: { search?: string; type?: string } }>("/", async (req, reply) => {
    const search = (req.query.search ?? "").slice(0, 200);
    const visible = req.caller
      ? [req.caller.user.name, ...(await app.hub.db.listOrgsOfUser(req.caller.user.id)).map((o) => o.name)]
      : [];
    const types: RepoType[] =
      req.query.type === "models"
        ? ["model"]
        : req.query.type === "datasets"
          ? ["dataset"]
          : ["model", "dataset", "space"];
    const sections: Html[] = [];
    for (const type of types) {
      const rows = await app.hub.db.listRepos({
        type,
        search: search || undefined,
        visibleNamespaces: visible,
        sort: "lastModified",
        direction: -1,
        limit: 60,
        offset: 0,
      });
      if (!rows.length && type === "space") continue;
      const items = rows.map((r) => {
        const card = (r.extra.card ?? { tags: [] }) as { tags?: string[]; pipeline_tag?: string };
        return html`<a class="item" href="/${urlPrefix(r.type)}${r.namespace}/${r.name}"><div class="id">${r.namespace}/${r.name} ${r.private ? raw('<span class="badge private">private</span>') : ""}</div>
<div class="muted">${[card.pipeline_tag, `updated ${r.lastModified.slice(0, 10)}`, `${r.downloads} downloads`].filter(Boolean).join(" · ")}</div></a>`;
      });
      sections.push(html`<h2>${type === "model" ? "Models" : type === "dataset" ? "Datasets" : "Spaces"} <span class="muted">${rows.length}</span></h2>
<div class="list">${items.length ? items : html`<p class="muted">Nothing here${search ? " for this search" : " yet"}.</p>`}</div>`);
    }
    const intro = search
      ? html`<p class="muted">Results for “${search}”</p>`
      : html`<h1>Hearth</h1><p class="muted">A self-hosted hub for models and datasets, speaking the Hugging Face Hub protocol.</p>`;
    return page(reply, req, search ? `Search: ${search}` : "Home", html`${intro}${sections}`, search);
  });

  interface RepoView {
    r: RepoRow;
    rev: string;
    commit: string;
    snap: Map<string, FileEntry>;
  }

  async function loadRepo(
    req: FastifyRequest,
    reply: FastifyReply,
    type: RepoType,
    ns: string,
    name: string,
    rev = "main",
  ): Promise<RepoView | undefined> {
    try {
      const r = await app.hub.repos.getReadable(type, ns, name, req.caller);
      const git = app.hub.repos.git(r);
      const commit = await git.resolve(rev);
      return { r, rev, commit, snap: await git.snapshot(commit) };
    } catch (e) {
      if (e instanceof HubServerError && e.status < 500) {
        notFound(
          reply,
          req,
          e.hfErrorCode === "RevisionNotFound" ? `No revision '${rev}'.` : `Repository ${ns}/${name} not found.`,
        );
        return undefined;
      }
      throw e;
    }
  }

  function repoHeader(v: RepoView, tab: "card" | "files" | "commits", tags: string[] = []): Html {
    const { r } = v;
    const base = `/${urlPrefix(r.type)}${r.namespace}/${r.name}`;
    const revPart = encodeURIComponent(v.rev);
    return html`<h1 class="repo"><span class="kind">${r.type}</span><a href="/?search=${r.namespace}">${r.namespace}</a>/<span>${r.name}</span>${r.private ? raw('<span class="badge private">private</span>') : ""}</h1>
<div>${tags.map((t) => html`<span class="badge">${t}</span>`)}</div>
<div class="tabs"><a class="${tab === "card" ? "on" : ""}" href="${base}">${r.type === "dataset" ? "Dataset card" : "Model card"}</a><a class="${tab === "files" ? "on" : ""}" href="${base}/tree/${revPart}">Files and versions</a><a class="${tab === "commits" ? "on" : ""}" href="${base}/commits/${revPart}">Commits</a></div>`;
  }

  function fileTable(v: RepoView, dir: string): Html {
    const base = `/${urlPrefix(v.r.type)}${v.r.namespace}/${v.r.name}`;
    const prefix = dir ? `${dir}/` : "";
    const entries = [...v.snap.values()].filter(
      (e) => e.path.startsWith(prefix) && !e.path.slice(prefix.length).includes("/"),
    );
    entries.sort((a, b) => (a.type === b.type ? (a.path < b.path ? -1 : 1) : a.type === "directory" ? -1 : 1));
    const rev = encodeURIComponent(v.rev);
    const rows = entries.map((e) => {
      const name = e.path.slice(prefix.length);
      if (e.type === "directory")
        return html`<tr><td><span class="ico dir"></span><a href="${base}/tree/${rev}/${e.path}">${name}/</a></td><td></td><td class="size"></td></tr>`;
      const size = e.lfs ? e.lfs.size : e.gitSize;
      return html`<tr><td><span class="ico file"></span><a href="${base}/blob/${rev}/${e.path}">${name}</a> ${e.lfs ? raw('<span class="badge lfs">LFS</span>') : ""}</td>
<td><a class="muted" href="${base}/resolve/${rev}/${e.path}?download=true">download</a></td><td class="size">${formatSize(size)}</td></tr>`;
    });
    const up = dir
      ? html`<tr><td colspan="3"><a href="${base}/tree/${rev}/${dir.split("/").slice(0, -1).join("/")}">..</a></td></tr>`
      : "";
    return html`<table class="files" id="files">${up}${rows}</table>`;
  }

  async function repoPage(
    req: FastifyRequest<{ Params: { ns: string; name: string }; Querystring: { preview?: string } }>,
    reply: FastifyReply,
    type: RepoType,
  ) {
    const v = await loadRepo(req, reply, type, req.params.ns, req.params.name);
    if (!v) return reply;
    const readme = v.snap.get("README.md");
    const text =
      readme?.type === "file" ? ((await readContent(v.r, readme, TEXT_VIEW_MAX))?.toString("utf8") ?? "") : "";
    const card = parseCard(text);
    const tags = (v.r.extra.card as { tags?: string[] } | undefined)?.tags ?? [];
    const meta = Object.entries(card.data).filter(
      ([, x]) => typeof x === "string" || typeof x === "number" || typeof x === "boolean",
    );
    let preview: Html | string = "";
    if (type === "dataset") {
      const candidates = [...v.snap.values()].filter((e) => e.type === "file" && previewable(e.path));
      candidates.sort(
        (a, b) => Number(!/train/i.test(a.path)) - Number(!/train/i.test(b.path)) || (a.path < b.path ? -1 : 1),
      );
      const wanted = typeof req.query.preview === "string" ? req.query.preview : undefined;
      const file = candidates.find((e) => e.path === wanted) ?? candidates[0];
      const base = `/${urlPrefix(v.r.type)}${v.r.namespace}/${v.r.name}`;
      const picker =
        candidates.length > 1
          ? html`<p class="muted">Preview: ${candidates.map((e) => (e === file ? html`<b class="badge">${e.path}</b>` : html`<a class="badge" href="${base}?preview=${encodeURIComponent(e.path)}">${e.path}</a>`))}</p>`
          : "";
      if (file) {
        try {
          const size = file.lfs ? file.lfs.size : file.gitSize;
          const bytes = /\.parquet$/i.test(file.path)
            ? size <= PREVIEW_MAX
              ? await readContent(v.r, file, PREVIEW_MAX)
              : undefined
            : await readContent(v.r, file, 256 * 1024);
          if (bytes) {
            const p = await previewRows(file.path, bytes);
            preview = html`<h2>Dataset preview <span class="muted">${p.file} · first ${p.rows.length} rows</span></h2>${picker}<div class="scroll"><table class="grid" id="preview"><tr>${p.columns.map((c) => html`<th>${c}</th>`)}</tr>
${p.rows.map((row) => html`<tr>${p.columns.map((c) => html`<td title="${cellText(row[c])}">${cellText(row[c])}</td>`)}</tr>`)}</table></div>`;
          }
        } catch (e) {
          preview = html`<div class="error">Preview of ${file.path} failed: ${(e as Error).message}</div>`;
        }
      }
    }
    const cardHtml = text
      ? html`<div class="card" id="model-card">${meta.length ? html`<div class="meta">${meta.map(([k, x]) => html`<b>${k}</b><span>${String(x)}</span>`)}</div>` : ""}${raw(renderMarkdown(card.body))}</div>`
      : html`<div class="card muted" id="model-card"><p>No card yet: add a README.md.</p></div>`;
    return page(
      reply,
      req,
      `${v.r.namespace}/${v.r.name}`,
      html`${repoHeader(v, "card", tags)}${preview}${cardHtml}<h2>Files <span class="muted">at ${v.commit.slice(0, 7)}</span></h2>${fileTable(v, "")}`,
    );
  }

  async function treePage(
    req: FastifyRequest<{ Params: { ns: string; name: string; rev: string; "*"?: string } }>,
    reply: FastifyReply,
    type: RepoType,
  ) {
    const v = await loadRepo(req, reply, type, req.params.ns, req.params.name, req.params.rev);
    if (!v) return reply;
    const dir = (req.params["*"] ?? "").replace(/^\/+|\/+$/g, "");
    if (dir && v.snap.get(dir)?.type !== "directory") return notFound(reply, req, `No folder '${dir}'.`);
    const refs = await app.hub.repos.git(v.r).refs();
    const base = `/${urlPrefix(v.r.type)}${v.r.namespace}/${v.r.name}`;
    const branches = html`<p class="muted">Branch: ${refs.branches.map((b) => html`<a class="badge" href="${base}/tree/${encodeURIComponent(b.name)}">${b.name}</a>`)} ${refs.tags.length ? "Tags: " : ""}${refs.tags.map((t) => html`<a class="badge" href="${base}/tree/${encodeURIComponent(t.name)}">${t.name}</a>`)} · commit <code>${v.commit.slice(0, 7)}</code></p>`;
    return page(
      reply,
      req,
      `Files of ${v.r.namespace}/${v.r.name}`,
      html`${repoHeader(v, "files")}${branches}${dir ? html`<p><b>${dir}/</b></p>` : ""}${fileTable(v, dir)}`,
    );
  }

  async function blobPage(
    req: FastifyRequest<{ Params: { ns: string; name: string; rev: string; "*"?: string } }>,
    reply: FastifyReply,
    type: RepoType,
  ) {
    const v = await loadRepo(req, reply, type, req.params.ns, req.params.name, req.params.rev);
    if (!v) return reply;
    const path = req.params["*"] ?? "";
    const e = v.snap.get(path);
    if (e?.type !== "file") return notFound(reply, req, `No file '${path}'.`);
    const size = e.lfs ? e.lfs.size : e.gitSize;
    const base = `/${urlPrefix(v.r.type)}${v.r.namespace}/${v.r.name}`;
    const last = await app.hub.repos.git(v.r).lastCommitOf(v.commit, path);
    let body: Html;
    const bytes = size <= TEXT_VIEW_MAX ? await readContent(v.r, e, TEXT_VIEW_MAX) : undefined;
    if (bytes && !bytes.subarray(0, 8000).includes(0))
      body = html`<pre><code class="hljs">${raw(highlight(path, bytes.toString("utf8")))}</code></pre>`;
    else
      body = html`<p style="padding:12px">${bytes ? "Binary file" : "Large file"} (${formatSize(size)}). <a href="${base}/resolve/${encodeURIComponent(v.rev)}/${path}?download=true">Download</a></p>`;
    const lfsInfo = e.lfs ? html`<p class="muted">Stored with Git LFS · sha256 <code>${e.lfs.oid}</code></p>` : "";
    return page(
      reply,
      req,
      path,
      html`${repoHeader(v, "files")}<p><a href="${base}/tree/${encodeURIComponent(v.rev)}">${v.r.name}</a> / ${path}</p>${lfsInfo}
<div class="code"><div class="bar"><span>${formatSize(size)}${last ? html` · last commit: ${last.title}` : ""}</span><span><a href="${base}/raw/${encodeURIComponent(v.rev)}/${path}">raw</a> · <a href="${base}/resolve/${encodeURIComponent(v.rev)}/${path}?download=true">download</a></span></div>${body}</div>`,
    );
  }

  async function commitsPage(
    req: FastifyRequest<{ Params: { ns: string; name: string; rev: string }; Querystring: { p?: string } }>,
    reply: FastifyReply,
    type: RepoType,
  ) {
    const v = await loadRepo(req, reply, type, req.params.ns, req.params.name, req.params.rev);
    if (!v) return reply;
    const git = app.hub.repos.git(v.r);
    const p = Math.max(Number(req.query.p ?? 0) || 0, 0);
    const commits = await git.log(v.commit, p * 50, 50);
    const total = await git.countCommits(v.commit);
    const base = `/${urlPrefix(v.r.type)}${v.r.namespace}/${v.r.name}`;
    const rows = commits.map(
      (c) =>
        html`<tr><td><b>${c.title}</b><div class="muted">${c.authorName} · ${c.date.replace("T", " ").slice(0, 16)}</div></td><td class="size"><a href="${base}/tree/${c.id}"><code>${c.id.slice(0, 7)}</code></a></td></tr>`,
    );
    const more = (p + 1) * 50 < total ? html`<p><a href="?p=${p + 1}">Older commits</a></p>` : "";
    return page(
      reply,
      req,
      `History of ${v.r.namespace}/${v.r.name}`,
      html`${repoHeader(v, "commits")}<p class="muted">${total} commits on ${v.rev}</p><table class="files" id="commits">${rows}</table>${more}`,
    );
  }

  const prefixes: Array<[string, RepoType]> = [
    ["", "model"],
    ["/datasets", "dataset"],
    ["/spaces", "space"],
    ["/models", "model"],
  ];
  for (const [prefix, type] of prefixes) {
    // a Space's own page (the running app) lives in routes/spaces-ui.ts
    if (type !== "space" || !app.hub.spaces)
      app.get<{ Params: { ns: string; name: string }; Querystring: { preview?: string } }>(
        `${prefix}/:ns/:name`,
        (req, reply) => repoPage(req, reply, type),
      );
    app.get<{ Params: { ns: string; name: string; rev: string; "*"?: string } }>(
      `${prefix}/:ns/:name/tree/:rev`,
      (req, reply) => treePage(req, reply, type),
    );
    app.get<{ Params: { ns: string; name: string; rev: string; "*"?: string } }>(
      `${prefix}/:ns/:name/tree/:rev/*`,
      (req, reply) => treePage(req, reply, type),
    );
    app.get<{ Params: { ns: string; name: string; rev: string; "*"?: string } }>(
      `${prefix}/:ns/:name/blob/:rev/*`,
      (req, reply) => blobPage(req, reply, type),
    );
    app.get<{ Params: { ns: string; name: string; rev: string }; Querystring: { p?: string } }>(
      `${prefix}/:ns/:name/commits/:rev`,
      (req, reply) => commitsPage(req, reply, type),
    );
    app.get<{ Params: { ns: string; name: string; oid: string } }>(`${prefix}/:ns/:name/commit/:oid`, (req, reply) =>
      reply.redirect(
        `/${urlPrefix(type)}${req.params.ns}/${req.params.name}/tree/${encodeURIComponent(req.params.oid)}`,
      ),
    );
  }

  app.get<{ Params: { name: string } }>("/avatars/:name", async (req, reply) => {
    const letter = esc((req.params.name[0] ?? "?").toUpperCase());
    return reply
      .type("image/svg+xml")
      .send(
        `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="32" fill="#e8590c"/><text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" font-family="sans-serif">${letter}</text></svg>`,
      );
  });
}
