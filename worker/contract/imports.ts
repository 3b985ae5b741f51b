import { z } from "@hono/zod-openapi";

/** `POST /v1/imports` and `GET /v1/imports/:id`. */

export const ImportQuery = z.object({
  dryRun: z
    .enum(["true", "false"], { error: 'dryRun is "true" or "false"' })
    .default("false")
    .describe("true: check every row and write nothing."),
});

export const ImportIdParam = z.object({ id: z.string().min(1).max(64) });

export const ImportView = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "running", "done", "failed"]),
    dryRun: z.boolean(),
    source: z.enum(["laurel", "smile", "loyaltylion"]).describe("Whose export the columns look like."),
    total: z.number().int().describe("Rows in the file (the header not counted)."),
    processed: z.number().int().describe("Rows dealt with so far: total once done."),
    imported: z.number().int().describe("Rows whose member was created or updated and credited."),
    skipped: z.number().int().describe("Rows in errors, and rows imported before (the same member and points)."),
    errors: z
      .array(z.object({ row: z.number().int().describe("The row's line in the file; the header is line 1."), message: z.string() }))
      .describe("The first 1,000 refused rows by line; all of them: GET /v1/imports/{id}/errors."),
    errorCount: z.number().int(),
    columns: z.record(z.string(), z.string()).describe("The header as written, per field it gave (customerId, email, points, ...)."),
    ignoredColumns: z.array(z.string()),
    failure: z.string().nullable().describe("Why processing stopped, when status is failed."),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi("Import");

export const ImportEnvelope = z.object({ import: ImportView }).openapi("ImportEnvelope");
