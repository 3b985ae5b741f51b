/**
 * The baseline for `npm run bench`: the least work a Hono app on Workers can do per request with
 * D1, one query. Laurel's endpoints are reported as a ratio of these (DESIGN §6).
 *   GET  /v1/baseline  one SELECT by primary key, answered as JSON
 *   POST /v1/baseline  parses a JSON body and does one INSERT
 *   GET  /v1/baseline?trips=N  the same SELECT N times one after the other (what a sequential
 *                      D1 round trip costs, beside Laurel's order ingestion)
 */
import { Hono } from "hono";

type Env = { Bindings: { DB: D1Database } };

const app = new Hono<Env>();

app.get("/v1/baseline", async (c) => {
  const trips = Math.min(Math.max(Number(c.req.query("trips") ?? 1) || 1, 1), 20);
  let row: unknown = null;
  for (let i = 0; i < trips; i++) {
    row = await c.env.DB.prepare("SELECT id, external_id, balance FROM members WHERE id = ?").bind(1).first();
  }
  return c.json({ member: row });
});

app.post("/v1/baseline", async (c) => {
  const body = await c.req.json<{ id?: string; order?: { id?: string; subtotal?: string } }>();
  await c.env.DB.prepare("INSERT INTO writes (shop_id, reference, amount) VALUES (?, ?, ?)")
    .bind("shop_baseline", String(body.order?.id ?? body.id ?? ""), String(body.order?.subtotal ?? "0"))
    .run();
  return c.json({ status: "processed" });
});

export default app;
