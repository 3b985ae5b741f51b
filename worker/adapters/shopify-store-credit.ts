/**
 * Shopify store credit for `store_credit` rewards: the reward's value credited to the customer's
 * store credit account (`storeCreditAccountCredit`, with the reward's expiry), and taken back when
 * the redemption is voided (`storeCreditAccountDebit`). Both accept the customer's GID as the
 * account id (Shopify then uses, or opens, the account in that currency). A credit must not run
 * twice, so a failure that may have executed it is not retried. Where store credit is unavailable
 * (the app lacks the scope, the store or currency has no store credit) the caller falls back to a
 * discount code.
 */
import { type AdminClientOptions, type AdminTarget, adminGraphql, ShopifyAdminError, type ShopifyUserError } from "./shopify-admin";

const CREDIT = `mutation LaurelStoreCreditCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction { id amount { amount currencyCode } account { id } }
    userErrors { field code message }
  }
}`;

const DEBIT = `mutation LaurelStoreCreditDebit($id: ID!, $debitInput: StoreCreditAccountDebitInput!) {
  storeCreditAccountDebit(id: $id, debitInput: $debitInput) {
    storeCreditAccountTransaction { id amount { amount currencyCode } account { id } }
    userErrors { field code message }
  }
}`;

interface TransactionPayload {
  storeCreditAccountTransaction: { id: string; account: { id: string } } | null;
  userErrors: ShopifyUserError[];
}

/** Codes that mean "this store cannot take store credit": the caller issues a code instead. */
const UNAVAILABLE = new Set(["UNSUPPORTED_CURRENCY", "MISMATCHING_CURRENCY", "ACCOUNT_NOT_FOUND", "OWNER_NOT_FOUND"]);

export class StoreCreditUnavailable extends Error {}

/** Thrown by the Admin API as a GraphQL error when the app lacks the store credit scopes. */
function accessDenied(err: unknown): boolean {
  if (!(err instanceof ShopifyAdminError) || err.kind !== "graphql") return false;
  const errors = Array.isArray(err.details.errors) ? (err.details.errors as { extensions?: { code?: string } }[]) : [];
  return errors.some((e) => e.extensions?.code === "ACCESS_DENIED");
}

async function transaction(
  target: AdminTarget,
  query: string,
  root: "storeCreditAccountCredit" | "storeCreditAccountDebit",
  variables: Record<string, unknown>,
  options: AdminClientOptions,
): Promise<{ transactionId: string; accountId: string }> {
  let payload: TransactionPayload | null;
  try {
    const result = await adminGraphql<Record<string, TransactionPayload | null>>(target, query, variables, { ...options, retryAmbiguous: false });
    payload = result.data[root] ?? null;
  } catch (err) {
    if (accessDenied(err)) throw new StoreCreditUnavailable("Laurel may not give store credit in this store (the app lacks the store credit scopes).");
    throw err;
  }
  const userErrors = payload?.userErrors ?? [];
  if (userErrors.some((e) => e.code && UNAVAILABLE.has(e.code))) throw new StoreCreditUnavailable(userErrors.map((e) => e.message).join("; "));
  if (userErrors.length > 0 || !payload?.storeCreditAccountTransaction) {
    throw new ShopifyAdminError("user_errors", userErrors.map((e) => e.message).join("; ") || "Shopify made no store credit transaction.", {
      userErrors,
    });
  }
  return { transactionId: payload.storeCreditAccountTransaction.id, accountId: payload.storeCreditAccountTransaction.account.id };
}

const customerGid = (customerId: string) => `gid://shopify/Customer/${customerId}`;

/** Credits `amount` (a decimal string in `currency`) to the customer, expiring at `expiresAt`. */
export function creditStoreCredit(
  target: AdminTarget,
  input: { customerId: string; amount: string; currency: string; expiresAt: string | null },
  options: AdminClientOptions = {},
) {
  return transaction(
    target,
    CREDIT,
    "storeCreditAccountCredit",
    {
      id: customerGid(input.customerId),
      creditInput: { creditAmount: { amount: input.amount, currencyCode: input.currency }, ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}), notify: true },
    },
    options,
  );
}

/** Takes `amount` back from the customer's store credit (a voided redemption). */
export function debitStoreCredit(
  target: AdminTarget,
  input: { customerId: string; amount: string; currency: string },
  options: AdminClientOptions = {},
) {
  return transaction(
    target,
    DEBIT,
    "storeCreditAccountDebit",
    { id: customerGid(input.customerId), debitInput: { debitAmount: { amount: input.amount, currencyCode: input.currency } } },
    options,
  );
}
