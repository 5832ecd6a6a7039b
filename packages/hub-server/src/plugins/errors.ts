import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { HubServerError } from "../errors.ts";

/** Header-safe form of a message: one line of printable ASCII. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, " ").slice(0, 1000);

const exposed =
  "ETag, Content-Range, Content-Length, Accept-Ranges, Location, Link, X-Repo-Commit, X-Linked-Etag, X-Linked-Size, X-Error-Code, X-Error-Message, X-Request-Id, X-Total-Count";

/**
 * HF-style errors: `X-Error-Code` / `X-Error-Message` headers plus a JSON `{"error"}` body, so
 * HEAD requests (no body) still tell the client what went wrong. Also echoes `X-Request-Id`
 * and exposes the headers browsers need.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook("onRequest", async (req, reply) => {
      reply.header("X-Request-Id", req.id);
      reply.header("Access-Control-Allow-Origin", "*");
      reply.header("Access-Control-Expose-Headers", exposed);
    });
    // CORS preflight for browser clients (Bearer tokens, never cookies: the origin is "*")
    app.options("*", async (_req, reply) =>
      reply
        .code(204)
        .header("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
        .header(
          "Access-Control-Allow-Headers",
          "Authorization, Content-Type, Range, Accept, X-Request-Id, Git-Protocol",
        )
        .header("Access-Control-Max-Age", "86400")
        .send(),
    );
    app.setErrorHandler((err: FastifyError | HubServerError, req, reply) => {
      let status: number;
      let code: string;
      let hfCode: string | undefined;
      let headers: Record<string, string> = {};
      if (err instanceof HubServerError) {
        status = err.status;
        code = err.code;
        hfCode = err.hfErrorCode;
        headers = err.headers;
      } else if ((err as FastifyError).validation) {
        status = 400;
        code = "HEARTH_HUBSERVER_BAD_REQUEST";
      } else if (((err as FastifyError).statusCode ?? 500) < 500) {
        status = (err as FastifyError).statusCode ?? 400;
        code = status === 413 ? "HEARTH_HUBSERVER_TOO_LARGE" : "HEARTH_HUBSERVER_BAD_REQUEST";
      } else {
        req.log.error(err);
        status = 500;
        code = "HEARTH_HUBSERVER_INTERNAL";
      }
      reply.code(status).headers(headers).header("X-Error-Message", headerSafe(err.message));
      if (hfCode) reply.header("X-Error-Code", hfCode);
      if (status === 401 && req.url.includes("/info/")) reply.header("WWW-Authenticate", 'Basic realm="Hearth"');
      return reply.type("application/json; charset=utf-8").send({ error: err.message, code });
    });
  },
  { name: "hearth-errors" },
);
