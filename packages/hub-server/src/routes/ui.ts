import type { FastifyInstance } from "fastify";

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  app.get("/", async (_req, reply) => reply.type("text/html").send("<!doctype html><title>Hearth</title>"));
}
