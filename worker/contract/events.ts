import { z } from "@hono/zod-openapi";
import { idText } from "./ids";
import { Money } from "./program";

/** `POST /v1/events`: what any platform sends us. Amounts are decimal strings. */

const Id = idText(255);
/**
 * The merchant's own customer id. "." and ".." are refused: a URL path normalises them away, so
 * such a member could never be read through /v1/customers/{externalId}.
 */
export const ExternalCustomerId = idText(255).refine((id) => id !== "." && id !== "..", { message: 'cannot be "." or ".." (they cannot appear in a URL path)' });
const Email = z.email().max(320);

const base = { id: Id, occurredAt: z.iso.datetime({ offset: true }).optional() };

export const CustomerCreated = z.object({
  ...base,
  type: z.literal("customer.created"),
  customer: z.object({
    id: ExternalCustomerId,
    email: Email.optional(),
    firstName: z.string().max(100).optional(),
    birthday: z
      .string()
      .regex(/^(\d{4}-)?\d{2}-\d{2}$/, "YYYY-MM-DD or MM-DD")
      .optional(),
    referralCode: idText(64).optional().describe("A referral code the customer arrived with."),
  }),
});

export const OrderLineInput = z.object({
  productType: z.string().max(100).optional(),
  sku: z.string().max(100).optional(),
  quantity: z.number().int().min(1).max(100_000),
  price: Money,
});

export const OrderPaid = z.object({
  ...base,
  type: z.literal("order.paid"),
  order: z.object({
    id: Id,
    customerId: ExternalCustomerId,
    email: Email.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as EUR"),
    subtotal: Money,
    discount: Money.optional(),
    shipping: Money.optional(),
    tax: Money.optional(),
    lines: z.array(OrderLineInput).max(500).default([]),
    discountCodes: z.array(idText(64)).max(50).optional(),
  }),
});

export const OrderRefunded = z.object({
  ...base,
  type: z.literal("order.refunded"),
  order: z.object({ id: Id }),
  refund: z.object({ id: Id, amount: Money }),
});

export const OrderCancelled = z.object({
  ...base,
  type: z.literal("order.cancelled"),
  order: z.object({ id: Id }),
});

export const ReviewCreated = z.object({
  ...base,
  type: z.literal("review.created"),
  customerId: ExternalCustomerId,
});

export const CustomEvent = z.object({
  ...base,
  type: z.literal("custom"),
  name: z.string().min(1).max(60),
  customerId: ExternalCustomerId,
});

export const LoyaltyEvent = z
  .discriminatedUnion("type", [CustomerCreated, OrderPaid, OrderRefunded, OrderCancelled, ReviewCreated, CustomEvent])
  .openapi("LoyaltyEvent");

export type LoyaltyEvent = z.infer<typeof LoyaltyEvent>;
export type OrderPaidEvent = z.infer<typeof OrderPaid>;
export type OrderRefundedEvent = z.infer<typeof OrderRefunded>;
export type OrderCancelledEvent = z.infer<typeof OrderCancelled>;
export type CustomerCreatedEvent = z.infer<typeof CustomerCreated>;

export const EventResult = z
  .object({
    status: z.enum(["processed", "duplicate"]),
    eventId: z.string(),
    customerId: z.string().nullable(),
    points: z.number().int().describe("Points this event moved (negative for claw-backs)."),
    balance: z.number().int().nullable(),
    pendingPoints: z
      .number()
      .int()
      .optional()
      .describe("Points the order holds until they become available (program.earning.pendingDays); absent when none."),
  })
  .openapi("EventResult");
export type EventResult = z.infer<typeof EventResult>;
