/** Received events, for exactly-once processing per (shop, source, event id). */
import { firstRow, type Read } from "./batch";

/** Whether the event was processed already: read in the same batch as the event's other reads. */
export function eventReceived(db: D1Database, shopId: string, source: string, eventId: string): Read<boolean> {
  const read = firstRow(
    db.prepare("SELECT 1 AS found FROM received_events WHERE shop_id = ? AND source = ? AND event_id = ?").bind(shopId, source, eventId),
    () => true,
  );
  return { statements: read.statements, parse: (results) => read.parse(results) ?? false };
}

const RECORD = "INSERT INTO received_events (shop_id, source, event_id, type, received_at) VALUES (?, ?, ?, ?, ?)";

type ReceivedEvent = { source: string; id: string; type: string; receivedAt: string };

const recordStatement = (db: D1Database, shopId: string, event: ReceivedEvent, tail: string) =>
  db.prepare(`${RECORD}${tail}`).bind(shopId, event.source, event.id, event.type, event.receivedAt);

/** A plain INSERT in the event's own batch: a concurrent second delivery fails and re-reads. */
export function recordEvent(db: D1Database, shopId: string, event: ReceivedEvent): D1PreparedStatement {
  return recordStatement(db, shopId, event, "");
}

/** The same, for a delivery that changes nothing else: a concurrent record of it is the same outcome. */
export function recordEventOnce(db: D1Database, shopId: string, event: ReceivedEvent): D1PreparedStatement {
  return recordStatement(db, shopId, event, " ON CONFLICT (shop_id, source, event_id) DO NOTHING");
}
