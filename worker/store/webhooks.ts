/**
 * Webhook endpoints and their deliveries (0020_webhooks.sql). Every statement is scoped by shop;
 * the dispatcher's and the consumer's statements are scoped by the claim or lease they hold.
 */
import { allRows, firstRow, type Read } from "./batch";

export type PausedReason = "merchant" | "failing";

export interface WebhookEndpoint {
  id: string;
  shopId: string;
  url: string;
  events: string[];
  description: string | null;
  sealedSecret: string;
  enabled: boolean;
  pausedReason: PausedReason | null;
  pausedAt: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

interface EndpointRow {
  id: string;
  shop_id: string;
  url: string;
  events: string;
  description: string | null;
  sealed_secret: string;
  enabled: number;
  paused_reason: PausedReason | null;
  paused_at: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

const toEndpoint = (row: EndpointRow): WebhookEndpoint => ({
  id: row.id,
  shopId: row.shop_id,
  url: row.url,
  events: JSON.parse(row.events) as string[],
  description: row.description,
  sealedSecret: row.sealed_secret,
  enabled: row.enabled === 1,
  pausedReason: row.paused_reason,
  pausedAt: row.paused_at,
  failingSince: row.failing_since,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const ENDPOINT_COLUMNS =
  "id, shop_id, url, events, description, sealed_secret, enabled, paused_reason, paused_at, failing_since, created_at, updated_at";

export interface NewEndpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  sealedSecret: string;
  createdAt: string;
}

/** A new endpoint gets only events recorded after it (its from_seq is the outbox's last seq). */
export function insertEndpoint(db: D1Database, shopId: string, endpoint: NewEndpoint): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO webhook_endpoints (id, shop_id, url, events, description, sealed_secret, enabled, from_seq, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, COALESCE((SELECT MAX(seq) FROM outbox), 0), ?7, ?7)`,
    )
    .bind(endpoint.id, shopId, endpoint.url, JSON.stringify(endpoint.events), endpoint.description, endpoint.sealedSecret, endpoint.createdAt);
}

export function countEndpoints(db: D1Database, shopId: string): Read<number> {
  return {
    statements: [db.prepare("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE shop_id = ?").bind(shopId)],
    parse: ([result]) => (result?.results[0] as { n: number } | undefined)?.n ?? 0,
  };
}

export function listEndpoints(db: D1Database, shopId: string): Read<WebhookEndpoint[]> {
  return allRows(
    db.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE shop_id = ? ORDER BY created_at, id`).bind(shopId),
    toEndpoint,
  );
}

export function endpointById(db: D1Database, shopId: string, id: string): Read<WebhookEndpoint | null> {
  return firstRow(db.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE shop_id = ? AND id = ?`).bind(shopId, id), toEndpoint);
}

export interface EndpointChange {
  url?: string | undefined;
  events?: string[] | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

/**
 * The statements of a PATCH. Enabling starts the endpoint afresh: only events recorded from now
 * on go to it (none of those that happened while it was paused), and its failure run is forgotten.
 */
export function updateEndpoint(db: D1Database, shopId: string, id: string, change: EndpointChange, at: string): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const where = "WHERE shop_id = ? AND id = ?";
  if (change.url !== undefined) {
    statements.push(db.prepare(`UPDATE webhook_endpoints SET url = ?, updated_at = ? ${where}`).bind(change.url, at, shopId, id));
  }
  if (change.events !== undefined) {
    statements.push(
      db.prepare(`UPDATE webhook_endpoints SET events = ?, updated_at = ? ${where}`).bind(JSON.stringify(change.events), at, shopId, id),
    );
  }
  if (change.description !== undefined) {
    statements.push(db.prepare(`UPDATE webhook_endpoints SET description = ?, updated_at = ? ${where}`).bind(change.description, at, shopId, id));
  }
  if (change.enabled === true) {
    statements.push(
      db
        .prepare(
          `UPDATE webhook_endpoints SET enabled = 1, from_seq = COALESCE((SELECT MAX(seq) FROM outbox), 0), paused_reason = NULL,
             paused_at = NULL, failing_since = NULL, updated_at = ? ${where} AND enabled = 0`,
        )
        .bind(at, shopId, id),
    );
  } else if (change.enabled === false) {
    statements.push(
      db
        .prepare(`UPDATE webhook_endpoints SET enabled = 0, paused_reason = 'merchant', paused_at = ?, updated_at = ? ${where} AND enabled = 1`)
        .bind(at, at, shopId, id),
    );
  }
  return statements;
}

export function deleteEndpoint(db: D1Database, shopId: string, id: string): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM webhook_deliveries WHERE shop_id = ? AND endpoint_id = ?").bind(shopId, id),
    db.prepare("DELETE FROM webhook_endpoints WHERE shop_id = ? AND id = ?").bind(shopId, id),
  ];
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastResponse: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  updatedAt: string;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_response: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
}

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  type: row.type,
  status: row.status,
  attempts: row.attempts,
  lastStatus: row.last_status,
  lastError: row.last_error,
  lastResponse: row.last_response,
  lastAttemptAt: row.last_attempt_at,
  nextAttemptAt: row.next_attempt_at,
  deliveredAt: row.delivered_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const DELIVERY_COLUMNS =
  "id, endpoint_id, event_id, type, status, attempts, last_status, last_error, last_response, last_attempt_at, next_attempt_at, delivered_at, created_at, updated_at";

/** An endpoint's deliveries, newest first; `before` is the cursor (created_at and id of the last one shown). */
export function listDeliveries(
  db: D1Database,
  shopId: string,
  endpointId: string,
  options: { limit: number; before: { createdAt: string; id: string } | null; status: DeliveryStatus | null },
): Read<WebhookDelivery[]> {
  const before = options.before;
  return allRows(
    db
      .prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE shop_id = ?1 AND endpoint_id = ?2 AND (?3 IS NULL OR status = ?3)
           AND (?4 IS NULL OR created_at < ?4 OR (created_at = ?4 AND id < ?5))
         ORDER BY created_at DESC, id DESC LIMIT ?6`,
      )
      .bind(shopId, endpointId, options.status, before?.createdAt ?? null, before?.id ?? "", options.limit),
    toDelivery,
  );
}

export function deliveryById(db: D1Database, shopId: string, endpointId: string, id: string): Read<WebhookDelivery | null> {
  return firstRow(
    db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE shop_id = ? AND endpoint_id = ? AND id = ?`).bind(shopId, endpointId, id),
    toDelivery,
  );
}

/** A test event's delivery: its payload is kept with it (no outbox event stands behind it). */
export function insertTestDelivery(
  db: D1Database,
  shopId: string,
  delivery: { id: string; endpointId: string; eventId: string; type: string; payload: string; createdAt: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO webhook_deliveries (id, shop_id, endpoint_id, event_id, type, test_payload, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7 FROM webhook_endpoints WHERE shop_id = ?2 AND id = ?3`,
    )
    .bind(delivery.id, shopId, delivery.endpointId, delivery.eventId, delivery.type, delivery.payload, delivery.createdAt);
}

/** A delivery tried again by hand: pending, due now, whatever it was. */
export function retryDeliveryNow(db: D1Database, shopId: string, endpointId: string, id: string, at: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?1, updated_at = ?1
       WHERE shop_id = ?2 AND endpoint_id = ?3 AND id = ?4`,
    )
    .bind(at, shopId, endpointId, id);
}
