import { createRoute, z } from "@hono/zod-openapi";
import { requireMerchant } from "../auth/middleware";
import { ImportEnvelope, ImportIdParam, ImportQuery, ImportView } from "../contract/imports";
import { idempotent } from "../http/idempotency";
import { idempotencyHeader, jsonResponse, problems } from "../http/openapi";
import { newRouter } from "../http/validation";
import {
  advanceImportWork,
  importErrorsCsv,
  importView,
  REQUEST_BUDGET_MS,
  recordedImport,
  requireImport,
  uploadFingerprint,
  uploadImport,
  waitingForWork,
} from "../services/imports";
import { type ImportRecord, listImports } from "../store/imports";

/** Members imported from another program: the upload, its progress, its refused rows. */
export const importRoutes = newRouter();

for (const path of ["/v1/imports", "/v1/imports/*"]) importRoutes.use(path, requireMerchant);

const security = [{ secretKey: [] }];

importRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/imports",
    tags: ["Imports"],
    summary: "Import members from another program (I)",
    description:
      "A CSV file (`Content-Type: text/csv`, at most 10 MB): the first row names the columns, any case: `customer_id` " +
      "(or `id`), `email`, `first_name`, `points` (the balance to carry over), optional `tier` and `birthday`. Smile.io " +
      "and LoyaltyLion customer exports are read as they come (\"Points balance\", \"VIP tier\", \"Date of birth\"; " +
      "\"Merchant ID\", \"Points approved\"). Rows without a customer id are matched to members by email. Each row " +
      "creates or updates its member and credits its points as one `import` ledger entry, once; a bad row is skipped " +
      "and listed by its line. Answers 202 at once; the rows are processed in the background (poll GET /v1/imports/{id}). " +
      "`dryRun=true` checks every row and writes nothing.",
    security,
    request: {
      query: ImportQuery,
      body: { content: { "text/csv": { schema: z.string() } }, required: true, description: "The CSV file." },
    },
    parameters: [idempotencyHeader],
    responses: { 202: jsonResponse(ImportEnvelope, "The import, queued (or done, for a dry run)"), ...problems(400, 401, 413, 415, 422) },
  }),
  async (c) => {
    const upload = { csv: await c.req.arrayBuffer(), dryRun: c.req.valid("query").dryRun === "true" };
    const answer = async (reference: string) => {
      const { record, errors } = await requireImport(c.env.DB, c.var.shop, reference);
      return { status: 202 as const, body: { import: importView(record, errors) } };
    };
    const uploaded: { record?: ImportRecord } = {};
    const response = await idempotent(
      c,
      "import",
      await uploadFingerprint(upload),
      async (claim) => {
        uploaded.record = await uploadImport(c.env.DB, c.var.shop, upload, claim);
        return answer(uploaded.record.id);
      },
      async (reference) => answer((await recordedImport(c.env.DB, c.var.shop, reference)).id),
    );
    // Processing starts after the answer (a replayed answer's import is carried by its reads).
    if (uploaded.record && waitingForWork(uploaded.record)) {
      c.executionCtx.waitUntil(advanceImportWork(c.env, c.var.shop, uploaded.record.id, REQUEST_BUDGET_MS));
    }
    // A replay carries the stored status and body, which the typed helpers cannot express.
    return response as never;
  },
);

importRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/imports",
    tags: ["Imports"],
    summary: "Recent imports",
    security,
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
    responses: { 200: jsonResponse(z.object({ imports: z.array(ImportView) }), "Newest first, without their errors"), ...problems(400, 401) },
  }),
  async (c) => {
    const imports = await listImports(c.env.DB, c.var.shop.id, c.req.valid("query").limit);
    return c.json({ imports: imports.map((record) => importView(record, [])) }, 200);
  },
);

importRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/imports/{id}",
    tags: ["Imports"],
    summary: "An import's progress",
    description: "Read it while it runs: processed rows, imported and skipped counts, refused rows with their lines.",
    security,
    request: { params: ImportIdParam },
    responses: { 200: jsonResponse(ImportEnvelope, "The import"), ...problems(401, 404) },
  }),
  async (c) => {
    const { record, errors } = await requireImport(c.env.DB, c.var.shop, c.req.valid("param").id);
    // Nobody is working on it (its worker ran out of time, or died): this read carries it further.
    if (waitingForWork(record)) c.executionCtx.waitUntil(advanceImportWork(c.env, c.var.shop, record.id, REQUEST_BUDGET_MS));
    return c.json({ import: importView(record, errors) }, 200);
  },
);

importRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/imports/{id}/errors",
    tags: ["Imports"],
    summary: "An import's refused rows, as CSV",
    description: "Every refused row: `row` (its line in the file) and `message` (what to fix).",
    security,
    request: { params: ImportIdParam },
    responses: {
      200: { content: { "text/csv": { schema: z.string() } }, description: "row,message" },
      ...problems(401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const csv = await importErrorsCsv(c.env.DB, c.var.shop, id);
    return c.body(csv, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="import-${id}-errors.csv"`,
    });
  },
);
