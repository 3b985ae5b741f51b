import { createMiddleware } from "hono/factory";
import { ApiError } from "./errors";

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Refuses bodies over 64 KB (413) and write bodies that are not JSON (415) before any handler
 * reads them. Routes that take other bodies (Shopify webhooks are JSON too) need no exception.
 * The body is read once, into hono's body cache, where the validator, `c.req.text()` and
 * `c.req.arrayBuffer()` find it: teeing the request (`clone()`) to read it twice cost an event
 * about a tenth of its CPU in workerd (docs/performance.md).
 */
export const bodyRules = createMiddleware(async (c, next) => {
  const method = c.req.method;
  if (method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE") {
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
      throw new ApiError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    }
    const raw = await c.req.arrayBuffer();
    if (raw.byteLength > MAX_BODY_BYTES) {
      throw new ApiError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    }
    if (raw.byteLength > 0) {
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        throw new ApiError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
      }
    }
  }
  await next();
});
