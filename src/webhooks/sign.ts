// Webhook signatures: Standard Webhooks (webhook-id / webhook-timestamp / webhook-signature v1,
// HMAC-SHA256 of "id.timestamp.body", base64) plus the original Go foreman's X-Foreman-Signature
// (hex HMAC-SHA256 of the raw body) for receivers written against it. Same key for both.
import { createHmac } from "node:crypto";

/** A secret "whsec_<base64>" is base64-decoded as the spec says; anything else is used as raw bytes. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret, "utf8");
}

export function signatureHeaders(key: Buffer, msgId: string, timestampSec: number, body: string): Record<string, string> {
  const v1 = createHmac("sha256", key).update(`${msgId}.${timestampSec}.${body}`).digest("base64");
  const legacy = createHmac("sha256", key).update(body).digest("hex");
  return {
    "webhook-signature": `v1,${v1}`,
    "x-foreman-signature": `sha256=${legacy}`,
  };
}
