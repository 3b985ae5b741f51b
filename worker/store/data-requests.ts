/** customers/data_request deliveries and the export Laurel made for each (migration 0026). */

export interface DataRequest {
  id: string;
  customerId: string;
  ordersRequested: string[];
  export: unknown;
  requestedAt: string;
}

export function insertDataRequest(
  db: D1Database,
  shopId: string,
  request: { id: string; customerId: string; deliveryId: string; ordersRequested: string[]; export: unknown; requestedAt: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO data_requests (id, shop_id, customer_id, delivery_id, orders_requested, export, requested_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      request.id,
      shopId,
      request.customerId,
      request.deliveryId,
      JSON.stringify(request.ordersRequested),
      request.export === null ? null : JSON.stringify(request.export),
      request.requestedAt,
    );
}

/** The shop's requests, newest first. */
export async function dataRequestsOf(db: D1Database, shopId: string, limit = 100): Promise<DataRequest[]> {
  const { results } = await db
    .prepare(
      `SELECT id, customer_id, orders_requested, export, requested_at FROM data_requests
       WHERE shop_id = ? ORDER BY requested_at DESC, id DESC LIMIT ?`,
    )
    .bind(shopId, limit)
    .all<{ id: string; customer_id: string; orders_requested: string; export: string | null; requested_at: string }>();
  return results.map((row) => ({
    id: row.id,
    customerId: row.customer_id,
    ordersRequested: JSON.parse(row.orders_requested) as string[],
    export: row.export === null ? null : JSON.parse(row.export),
    requestedAt: row.requested_at,
  }));
}

/** A customer's requests go with the rest of their personal data (customers/redact, erasure). */
export function eraseDataRequestsOf(db: D1Database, shopId: string, customerId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM data_requests WHERE shop_id = ? AND customer_id = ?").bind(shopId, customerId);
}
