/**
 * Runs `git http-backend` as a CGI for one request: the request body goes to its stdin, the CGI
 * headers it prints are parsed, and the rest of stdout is returned as the response stream.
 */
import { spawn } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";
import { hubError } from "../errors.ts";
import { gitEnv } from "./exec.ts";

export interface CgiRequest {
  projectRoot: string;
  /** `/<relative repo dir>/info/refs` etc. */
  pathInfo: string;
  method: string;
  query: string;
  contentType?: string;
  contentEncoding?: string;
  gitProtocol?: string;
  remoteUser?: string;
  remoteAddr?: string;
  body?: Readable;
}

export interface CgiResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  /** Resolves with the exit code once the CGI process ends. */
  done: Promise<number>;
}

export function runHttpBackend(r: CgiRequest): Promise<CgiResponse> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...gitEnv(),
      GIT_PROJECT_ROOT: r.projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: r.pathInfo,
      REQUEST_METHOD: r.method,
      QUERY_STRING: r.query,
      CONTENT_TYPE: r.contentType ?? "",
      REMOTE_ADDR: r.remoteAddr ?? "127.0.0.1",
    };
    if (r.contentEncoding) env.HTTP_CONTENT_ENCODING = r.contentEncoding;
    if (r.gitProtocol) env.GIT_PROTOCOL = r.gitProtocol;
    if (r.remoteUser) env.REMOTE_USER = r.remoteUser;
    const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
    const stderr: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    const done = new Promise<number>((res) => child.on("close", (code) => res(code ?? -1)));
    child.on("error", (e) =>
      reject(hubError("HEARTH_HUBSERVER_GIT_FAILED", `git http-backend: could not start (${e.message})`)),
    );
    child.stdin.on("error", () => {});
    if (r.body) r.body.pipe(child.stdin);
    else child.stdin.end();

    let head = Buffer.alloc(0);
    let settled = false;
    const body = new PassThrough();
    const onData = (chunk: Buffer) => {
      if (settled) return;
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf("\r\n\r\n");
      let sepLen = 4;
      if (sep < 0) {
        sep = head.indexOf("\n\n");
        sepLen = 2;
      }
      if (sep < 0) return;
      settled = true;
      child.stdout.off("data", onData);
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, sep).toString("latin1").split(/\r?\n/)) {
        const i = line.indexOf(":");
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === "status") status = Number.parseInt(v, 10) || 500;
        else headers[k] = v;
      }
      body.write(head.subarray(sep + sepLen));
      child.stdout.pipe(body);
      resolve({ status, headers, body, done });
    };
    child.stdout.on("data", onData);
    child.stdout.on("end", () => {
      if (!settled) {
        settled = true;
        reject(
          hubError(
            "HEARTH_HUBSERVER_GIT_FAILED",
            `git http-backend ${r.pathInfo}: no CGI headers (${Buffer.concat(stderr).toString().trim().slice(0, 300)})`,
          ),
        );
      }
    });
  });
}
