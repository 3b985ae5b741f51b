/**
 * Reconciliation: the orders of a Shopify store whose webhooks never came, pulled through the
 * Admin API and applied with the same idempotent ingestion (by order and refund id).
 */
import { type AdminClientOptions, adminOrigin, ordersUpdatedSince, ShopifyAdminError } from "../adapters/shopify-admin";
import { newId } from "../auth/keys";
import { LoyaltyEvent } from "../contract/events";
import { orderFromGraphql, reconcileShopifyOrder } from "../domain/shopify";
import type { Env } from "../env";
import { ApiError, badRequest } from "../http/errors";
import type { Shop } from "../store/shops";
import { lastReconciledUntil, type ReconciliationRun, recordReconciliation } from "../store/shopify-reconciliations";
import { ingestEvent } from "./events";
import { SHOPIFY_SOURCE } from "./shopify";
import { shopifyConnection, shopifyConnectionStatus } from "./shopify-install";

export interface ReconciledOrder {
  orderId: string | null;
  status: "credited" | "already_credited" | "skipped";
  reason?: string;
  points: number;
}

/**
 * Orders from Shopify's orders API, replayed as the webhooks would have delivered them. Every step
 * is idempotent on Shopify's own ids, so overlapping or repeated calls move no points twice.
 */
export async function reconcileShopifyOrders(env: Env, shop: Shop, orders: unknown[], now = new Date()) {
  const { includeTax, includeShipping } = shop.program.earning;
  const results: ReconciledOrder[] = [];
  for (const order of orders) {
    const replay = reconcileShopifyOrder(order, { includeTax, includeShipping });
    const idOf = (order as { id?: unknown } | null)?.id;
    if (!replay.ok) {
      results.push({
        orderId: typeof idOf === "string" || typeof idOf === "number" ? String(idOf) : null,
        status: "skipped",
        reason: replay.reason === "guest_order" ? "guest_order" : replay.issues.join("; "),
        points: 0,
      });
      continue;
    }
    let points = 0;
    let credited = false;
    try {
      for (const event of replay.events) {
        // An order our event contract refuses (amounts beyond its bounds) is skipped, never a 500.
        const checked = LoyaltyEvent.safeParse(event);
        if (!checked.success) {
          throw badRequest(checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
        }
        const result = await ingestEvent(env.DB, shop, SHOPIFY_SOURCE, checked.data, now);
        points += result.points;
        if (event.type === "order.paid" && result.status === "processed") credited = true;
      }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      results.push({ orderId: replay.orderId, status: "skipped", reason: err.message, points });
      continue;
    }
    results.push({ orderId: replay.orderId, status: credited ? "credited" : "already_credited", points });
  }
  return {
    orders: results,
    credited: results.filter((r) => r.status === "credited").length,
    points: results.reduce((sum, r) => sum + r.points, 0),
  };
}

/** The first run looks back a day (the cron is daily); no run looks back further than two. */
const RECONCILE_FIRST_LOOKBACK_MS = 24 * 3_600_000;
const RECONCILE_MAX_LOOKBACK_MS = 48 * 3_600_000;
/** Each window starts a little before the last one ended: an order updated at the edge is not lost. */
const RECONCILE_OVERLAP_MS = 10 * 60_000;

/**
 * The scheduled reconciliation of one Shopify store: the orders updated since the last run, pulled
 * through the Admin API (GraphQL `orders`), applied as their webhooks would have been (paid,
 * refunds, cancellation: idempotent by order and refund id, so what webhooks already did moves
 * nothing), and the run recorded for the console. A store Laurel cannot reach gets a run with the
 * reason; the next run covers the window again.
 */
export async function reconcileShopifyStore(env: Env, shop: Shop, now = new Date(), adminOptions: AdminClientOptions = {}) {
  const last = await lastReconciledUntil(env.DB, shop.id);
  const floor = now.getTime() - RECONCILE_MAX_LOOKBACK_MS;
  const from = last ? Date.parse(last) - RECONCILE_OVERLAP_MS : now.getTime() - RECONCILE_FIRST_LOOKBACK_MS;
  const since = new Date(Math.max(floor, from));
  const run: ReconciliationRun = {
    id: newId("rc"),
    ranAt: now.toISOString(),
    since: since.toISOString(),
    until: null,
    orders: 0,
    credited: 0,
    points: 0,
    skipped: 0,
    error: null,
  };
  const connection = await shopifyConnection(env, shop);
  if (!connection) {
    run.error = (await shopifyConnectionStatus(env, shop)).message;
  } else {
    try {
      const fetched = await ordersUpdatedSince(
        { origin: adminOrigin(env, connection.shopifyDomain), accessToken: connection.accessToken },
        since,
        adminOptions,
      );
      const result = await reconcileShopifyOrders(env, shop, fetched.orders.map(orderFromGraphql), now);
      run.orders = result.orders.length;
      run.credited = result.credited;
      run.points = result.points;
      run.skipped = result.orders.filter((o) => o.status === "skipped" && o.reason !== "guest_order").length;
      run.until = fetched.complete ? now.toISOString() : null;
    } catch (err) {
      if (!(err instanceof ShopifyAdminError)) throw err;
      run.error = `Shopify could not be read: ${err.message}`;
    }
  }
  await recordReconciliation(env.DB, shop.id, run);
  return run;
}
