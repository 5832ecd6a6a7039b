/** Token, password and signed-URL primitives. Tokens are stored only as sha256 hashes. */
import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A new access token, `hf_` + 34 base62 characters (the JS client insists on the prefix). */
export function newToken(): string {
  const bytes = randomBytes(34);
  let s = "hf_";
  for (const b of bytes) s += base62[b % 62];
  return s;
}

export const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex");

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString("hex")}$${scryptSync(password, salt, 32).toString("hex")}`;
}

export function checkPassword(password: string, stored: string | null): boolean {
  if (!stored) return false;
  const [kind, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const got = scryptSync(password, Buffer.from(salt, "hex"), 32);
  return timingSafeEqual(got, Buffer.from(hash, "hex"));
}

/** HMAC-signed, expiring payloads for self-authorising URLs (LFS upload/download hrefs). */
export class UrlSigner {
  constructor(private readonly key: Buffer) {}

  sign(payload: Record<string, string | number>, ttlSeconds: number): string {
    const body = Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(Date.now() / 1000) + ttlSeconds })).toString(
      "base64url",
    );
    const mac = createHmac("sha256", this.key).update(body).digest("base64url");
    return `${body}.${mac}`;
  }

  /** The payload, or undefined when forged or expired. */
  verify(token: string): Record<string, string | number> | undefined {
    const [body, mac] = token.split(".");
    if (!body || !mac) return undefined;
    const want = createHmac("sha256", this.key).update(body).digest();
    const got = Buffer.from(mac, "base64url");
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    const payload = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, string | number>;
    if (typeof payload.exp !== "number" || payload.exp < Date.now() / 1000) return undefined;
    return payload;
  }
}
