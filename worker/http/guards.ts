import { createMiddleware } from "hono/factory";
import { ApiError } from "./errors";

export const MAX_BODY_BYTES = 64 * 1024;

/** Routes whose body is not JSON, with their own limit (a member import's CSV: 10 MB). */
const OTHER_BODIES: Record<string, { maxBytes: number; type: RegExp; hint: string }> = {
  "POST /v1/imports": {
    maxBytes: 10 * 1024 * 1024,
    type: /^(text|application)\/csv\b/i,
    hint: "Send the file as CSV with Content-Type: text/csv.",
  },
};

/**
 * Refuses bodies over 64 KB (413) and write bodies that are not JSON (415) before any handler
 * reads them, except on the routes of OTHER_BODIES, which take their own type and size.
 * The body is read once, into hono's body cache, where the validator, `c.req.text()` and
 * `c.req.arrayBuffer()` find it: teeing the request (`clone()`) to read it twice cost an event
 * about a tenth of its CPU in workerd (docs/performance.md).
 */
export const bodyRules = createMiddleware(async (c, next) => {
  const method = c.req.method;
  if (method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE") {
    const other = OTHER_BODIES[`${method} ${c.req.path}`];
    const maxBytes = other?.maxBytes ?? MAX_BODY_BYTES;
    const tooLarge = () =>
      new ApiError("payload_too_large", `${other ? "This route takes" : "Request bodies are limited to"} at most ${maxBytes} bytes.`);
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) > maxBytes) throw tooLarge();
    const raw = await c.req.arrayBuffer();
    if (raw.byteLength > maxBytes) throw tooLarge();
    if (raw.byteLength > 0) {
      const type = c.req.header("content-type") ?? "";
      if (other && !other.type.test(type)) throw new ApiError("unsupported_media_type", other.hint);
      if (!other && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
        throw new ApiError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
      }
    }
  }
  await next();
});
