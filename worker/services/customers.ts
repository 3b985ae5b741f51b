import { formatMoney } from "../domain/money";
import { ApiError, insufficientPoints, notFound } from "../http/errors";
import { commit, readTogether } from "../store/batch";
import { type Customer, customerByExternalId, readCustomer, redactCustomerStatements } from "../store/customers";
import { allEntries, appendEntry, entryByKey, ledgerPage } from "../store/ledger";
import { eraseDataRequestsOf } from "../store/data-requests";
import { redactOutboxStatements } from "../store/outbox";
import type { Shop } from "../store/shops";
import { newId } from "../auth/keys";
import { ordersOfCustomer, pendingReleasesStatement, readPendingByMember } from "../store/orders";
import { badgesOfCustomer } from "../store/challenges";
import { feedbackOf } from "../store/feedback";
import { npsResponsesOf } from "../store/nps";
import { currentTier, readTierSpendOf } from "./members";
import { planOf, standingFrom, write } from "./pipeline";

/** What a member view adds to the stored row: points held by orders, the tier the program gives now. */
export interface MemberExtras {
  pendingPoints: number;
  tier: string | null;
}

export function customerView(shop: Shop, customer: Customer, extras: MemberExtras = { pendingPoints: 0, tier: customer.tier }) {
  return {
    id: customer.externalId,
    email: customer.email,
    firstName: customer.firstName,
    birthday: customer.birthday,
    balance: customer.balance,
    lifetimePoints: customer.lifetimePoints,
    pendingPoints: extras.pendingPoints,
    tier: extras.tier,
    referralCode: customer.referralCode,
    orderCount: customer.orderCount,
    totalSpent: formatMoney(customer.totalSpent, shop.currency),
    lastOrderAt: customer.lastOrderAt,
    createdAt: customer.createdAt,
    redactedAt: customer.redactedAt,
  };
}

/**
 * Members as the merchant reads them: with their pending points and in the tier the
 * current program gives them (a tier added since their last order already shows), one batch for
 * the whole page.
 */
export async function customerViews(db: D1Database, shop: Shop, customers: Customer[], now = new Date()) {
  if (customers.length === 0) return [];
  const ids = customers.map((c) => c.rowId);
  const [pending, spend] = await readTogether(db, [readPendingByMember(db, shop.id, ids), readTierSpendOf(db, shop, ids, now)] as const);
  return customers.map((c) =>
    customerView(shop, c, {
      pendingPoints: pending.get(c.rowId) ?? 0,
      tier: currentTier(shop, standingFrom(c.externalId, c, spend.get(c.rowId) ?? {})),
    }),
  );
}

/** One member as the merchant reads them, with when their pending points become available. */
export async function memberView(db: D1Database, shop: Shop, customer: Customer, now = new Date()) {
  const releases = pendingReleasesStatement(db, "?1", [customer.rowId]);
  const [[view], result] = await Promise.all([customerViews(db, shop, [customer], now), db.batch([releases.statement])]);
  return { ...view!, pendingReleases: releases.rows(result[0]!) };
}

export async function requireCustomer(db: D1Database, shop: Shop, externalId: string): Promise<Customer> {
  const customer = await customerByExternalId(db, shop.id, externalId);
  if (!customer) throw notFound("Customer");
  return customer;
}

/**
 * A merchant's manual adjustment. A debit the balance cannot cover is refused (only claw-backs
 * clamp); when a concurrent debit got there first, the balance CHECK refuses the batch and the
 * plan, made again, refuses it too.
 */
export async function adjustBalance(
  db: D1Database,
  shop: Shop,
  externalId: string,
  adjustment: { points: number; note: string },
  /** The Idempotency-Key's claim, naming the entry's ledger key (see recordedAdjustment). */
  claim: (reference: string) => D1PreparedStatement,
  now = new Date(),
) {
  const { value: key, balance } = await write(
    db,
    shop,
    readCustomer(db, shop.id, externalId),
    (customer) => {
      if (!customer) throw notFound("Customer");
      if (customer.redactedAt) throw new ApiError("customer_redacted", "This customer's data was erased.");
      if (customer.balance + adjustment.points < 0) throw insufficientPoints(customer.balance, -adjustment.points);
      const key = `adjustment:${newId("adj")}`;
      const entry = appendEntry(db, {
        shopId: shop.id,
        customerExternalId: externalId,
        delta: adjustment.points,
        kind: "adjustment",
        reference: null,
        key,
        note: adjustment.note || null,
        createdAt: now.toISOString(),
      });
      // Manual credits count toward lifetime-point tiers like any other credit.
      const standings = adjustment.points > 0 ? [{ standing: standingFrom(externalId, customer, null), lifetime: adjustment.points }] : [];
      return planOf(key, { statements: [claim(key), entry], member: externalId, standings });
    },
    now,
  );
  // This request's own entry: the customer's latest may already be a concurrent request's.
  return { entry: (await entryByKey(db, shop.id, key))!, balance: balance ?? 0 };
}

/** The answer of an adjustment committed under `key` whose request failed before answering. */
export async function recordedAdjustment(db: D1Database, shop: Shop, key: string) {
  const entry = await entryByKey(db, shop.id, key);
  if (!entry) throw new Error(`no ledger entry ${key} for a committed adjustment`);
  return { entry, balance: entry.balanceAfter };
}

export { ledgerPage };

/** Everything Laurel holds about one customer (GDPR access request). */
export async function exportCustomer(db: D1Database, shop: Shop, externalId: string) {
  const customer = await requireCustomer(db, shop, externalId);
  const [ledger, orders, badges, npsResponses, feedback] = await Promise.all([
    allEntries(db, shop.id, customer.rowId),
    ordersOfCustomer(db, shop.id, customer.rowId),
    badgesOfCustomer(db, shop.id, customer.rowId),
    npsResponsesOf(db, shop.id, customer.rowId),
    feedbackOf(db, shop.id, customer.rowId),
  ]);
  return {
    exportedAt: new Date().toISOString(),
    shop: { id: shop.id, name: shop.name },
    customer: await memberView(db, shop, customer),
    ledger,
    orders: orders.map((o) => ({
      id: o.externalId,
      status: o.status,
      eligibleAmount: formatMoney(o.eligibleAmount, shop.currency),
      refundedAmount: formatMoney(o.refundedAmount, shop.currency),
      pointsAwarded: o.pointsAwarded,
      pointsReversed: o.pointsReversed,
      email: o.email,
      createdAt: o.createdAt,
    })),
    badges,
    npsResponses,
    feedback,
  };
}

/** GDPR erasure: personal data gone in one batch (the outbox's events too); balances and ledger amounts stay. */
export async function redactCustomer(db: D1Database, shop: Shop, externalId: string, now = new Date()) {
  const customer = await requireCustomer(db, shop, externalId);
  await commit(db, [
    ...redactCustomerStatements(db, shop.id, customer.rowId, now.toISOString()),
    ...redactOutboxStatements(db, shop.id, customer.rowId, externalId),
    eraseDataRequestsOf(db, shop.id, externalId),
  ]);
  return { status: "redacted" as const, balance: customer.balance };
}
