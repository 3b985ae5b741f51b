/**
 * Codes at the shop's checkout. A redemption's code and a referee's offer code are committed in
 * D1 first; then the shop's CodeIssuer makes them valid where the shopper pays: for a Shopify shop
 * the Admin API creates the discount; any other shop's checkout asks Laurel (`GET /v1/codes/{code}`),
 * so there is nothing more to do. The issuer is chosen once per shop, here, and nowhere else.
 */
import { adminOrigin, ShopifyAdminError } from "../adapters/shopify-admin";
import { type DiscountIssuer, type DiscountReward, type ShopifyShopConnection, shopifyDiscountIssuer } from "../adapters/shopify-discounts";
import { creditStoreCredit, debitStoreCredit, StoreCreditUnavailable } from "../adapters/shopify-store-credit";
import { newId } from "../auth/keys";
import { formatMoney } from "../domain/money";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { withdrawClaim } from "../store/referrals";
import { markShopifyCodeCreated, pendingShopifyRedemptions, type Redemption, redemptionById, rewardById } from "../store/rewards";
import type { Shop } from "../store/shops";
import { endStoreCreditReversal, markStoreCredited, storeCreditOf, takeStoreCreditReversal } from "../store/store-credit";
import { voidRedemption } from "./rewards";
import { shopifyConnection } from "./shopify-install";

export interface OfferClaim {
  referral: { id: string };
  offerCode: string;
  offer: { type: Shop["program"]["referral"]["refereeOffer"]["type"]; value: string | number | null };
}

export interface CodeIssuer {
  /**
   * Makes a committed redemption's code valid at checkout. Null: it is. Otherwise the redemption
   * was voided with its points back, and the error is the answer to the redemption request.
   */
  issueRedemptionCode(redemption: Redemption): Promise<ApiError | null>;
  /** The same for a redemption whose request died after committing (a retry of its key). */
  resumeRedemptionCode(redemption: Redemption): Promise<ApiError | null>;
  /** Makes a referee's committed offer code valid; when it cannot, the claim is withdrawn (502). */
  issueOfferCode(claim: OfferClaim): Promise<ApiError | null>;
  /**
   * Before a redemption is voided: takes back at checkout what it gave (Shopify store credit).
   * Throws an ApiError, with nothing changed, when that cannot be done (the credit was spent).
   */
  revokeRedemption(redemptionId: string): Promise<void>;
}

/** The answer to a redemption request whose code ended up void. */
export function voidedAnswer(shop: Shop, redemption: Redemption, reason = redemption.voidReason): ApiError {
  if (shop.platform !== "shopify") {
    return new ApiError("redemption_not_issued", "This redemption was voided and its points are back.", {
      details: { redemptionId: redemption.id, status: "void" },
    });
  }
  return new ApiError(
    "upstream_failed",
    `${reason ?? "Shopify could not create the code."} The redemption was voided and its points are back.`,
    { details: { redemptionId: redemption.id } },
  );
}

/** The shop's own checkout validates codes with Laurel: a committed code is valid at once. */
const ownCheckout = (shop: Shop): CodeIssuer => ({
  issueRedemptionCode: async () => null,
  resumeRedemptionCode: async (redemption) => (redemption.status === "void" ? voidedAnswer(shop, redemption) : null),
  issueOfferCode: async () => null,
  revokeRedemption: async () => {},
});

export function codeIssuerFor(env: Env, shop: Shop, discounts: DiscountIssuer = shopifyDiscountIssuer(env)): CodeIssuer {
  return shop.platform === "shopify" ? shopifyCheckout(env, shop, discounts) : ownCheckout(shop);
}

/** The discount a redemption's code stands for, as the Admin API takes it. */
async function discountOf(env: Env, shop: Shop, redemption: Redemption): Promise<DiscountReward> {
  const reward = await rewardById(env.DB, shop.id, redemption.rewardId);
  const money = (minor: number | null) => (minor === null ? null : formatMoney(minor, shop.currency));
  return {
    name: reward?.name ?? "Reward",
    // Donations have no code and never reach Shopify (redeemReward answers them itself).
    type: redemption.rewardType as DiscountReward["type"],
    value:
      redemption.rewardType === "free_product"
        ? (reward?.product ?? null)
        : redemption.rewardType === "percent_off"
          ? redemption.rewardValue
          : money(redemption.rewardValue),
    minOrder: money(redemption.minOrder),
    endsAt: redemption.expiresAt,
  };
}

/** Shopify has the code: mark it so. When the code was voided meanwhile, that is the answer. */
async function confirmed(env: Env, shop: Shop, redemption: Redemption): Promise<ApiError | null> {
  if (await markShopifyCodeCreated(env.DB, shop.id, redemption.id)) return null;
  return voidedAnswer(shop, (await redemptionById(env.DB, shop.id, redemption.id)) ?? redemption);
}

/**
 * Voids a code Shopify does not have (or could not be asked about), points back, unless another
 * request confirmed it meanwhile: then the code stands (null).
 */
async function voidUnconfirmed(env: Env, shop: Shop, redemption: Redemption, reason: string, now = new Date()) {
  try {
    await voidRedemption(env.DB, shop, redemption.id, reason.slice(0, 200), now, true);
    return voidedAnswer(shop, redemption, reason);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== "redemption_not_issued") throw err;
    const current = (await redemptionById(env.DB, shop.id, redemption.id)) ?? redemption;
    return current.status === "void" ? voidedAnswer(shop, current) : null;
  }
}

/**
 * Shopify's checkout knows only the discounts the Admin API created. A redemption's code is
 * 'pending' until Shopify has it (the scheduled sweep resolves codes whose request died); when
 * Shopify cannot create it (after the adapter's bounded retries), the redemption is voided and
 * its points come back.
 */
function shopifyCheckout(env: Env, shop: Shop, discounts: DiscountIssuer): CodeIssuer {
  /**
   * A store_credit reward as Shopify store credit: "credited"; "unavailable" where the store has no
   * store credit (the scope, the plan, the currency), and a discount code stands in for it; or
   * "voided" when the redemption was voided while Shopify credited it.
   */
  async function creditStoreCreditFor(connection: ShopifyShopConnection, redemption: Redemption): Promise<"credited" | "voided" | "unavailable"> {
    try {
      const credit = await creditStoreCredit(
        { origin: adminOrigin(env, connection.shopifyDomain), accessToken: connection.accessToken },
        // The reward's expiry becomes the credit's once redemptions carry one (#13).
        { customerId: redemption.customerExternalId, amount: formatMoney(redemption.rewardValue ?? 0, shop.currency), currency: shop.currency, expiresAt: null },
      );
      return (await markStoreCredited(env.DB, shop.id, redemption.id, credit.transactionId)) ? "credited" : "voided";
    } catch (err) {
      if (!(err instanceof StoreCreditUnavailable)) throw err;
      console.warn(JSON.stringify({ level: "warn", message: "store credit unavailable, a code instead", shop: shop.id, reason: err.message }));
      return "unavailable";
    }
  }

  async function create(redemption: Redemption): Promise<ApiError | null> {
    if (redemption.code === null) return null;
    const code = redemption.code;
    const connection = await shopifyConnection(env, shop);
    let failure = "The shop is not connected to Shopify.";
    if (connection) {
      try {
        if (redemption.rewardType === "store_credit") {
          const credited = await creditStoreCreditFor(connection, redemption);
          if (credited === "credited") return null;
          if (credited === "voided") return voidedAnswer(shop, (await redemptionById(env.DB, shop.id, redemption.id)) ?? redemption);
        }
        await discounts.createCode(connection, { code, reward: await discountOf(env, shop, redemption) });
        return confirmed(env, shop, redemption);
      } catch (err) {
        if (!(err instanceof ShopifyAdminError)) throw err;
        failure = `Shopify could not create the code: ${err.message}`;
      }
    }
    return voidUnconfirmed(env, shop, redemption, failure);
  }
  return {
    issueRedemptionCode: create,
    async resumeRedemptionCode(redemption) {
      if (redemption.status === "void") return voidedAnswer(shop, redemption);
      if (redemption.status !== "issued" || redemption.shopifyStatus !== "pending" || redemption.code === null) return null;
      // The request died before Shopify answered: ask whether it has the code, then finish.
      const connection = await shopifyConnection(env, shop);
      try {
        const found = connection ? await discounts.findCode(connection, redemption.code) : null;
        return found ? await confirmed(env, shop, redemption) : await create(redemption);
      } catch (err) {
        if (!(err instanceof ShopifyAdminError)) throw err;
        return voidUnconfirmed(env, shop, redemption, `Shopify could not be asked about the code: ${err.message}`);
      }
    },
    async issueOfferCode(claim) {
      const connection = await shopifyConnection(env, shop);
      let failure = "The shop is not connected to Shopify.";
      if (connection) {
        try {
          await discounts.createCode(connection, {
            code: claim.offerCode,
            reward: { name: "Referral offer", type: claim.offer.type, value: claim.offer.value, minOrder: null },
          });
          return null;
        } catch (err) {
          if (!(err instanceof ShopifyAdminError)) throw err;
          failure = `Shopify could not create the offer code: ${err.message}`;
        }
      }
      // The claim's code never existed anywhere: take the claim back; the referee may claim again.
      await withdrawClaim(env.DB, shop.id, claim.referral.id);
      return new ApiError("upstream_failed", `${failure} No offer code was issued; try again later.`);
    },
    async revokeRedemption(redemptionId) {
      const credit = await storeCreditOf(env.DB, shop.id, redemptionId);
      if (!credit?.transactionId) return; // a discount code, or not issued: the void alone does it
      if (credit.reversal) return; // taken back already (a retried void)
      const nonce = newId("rv");
      if (!(await takeStoreCreditReversal(env.DB, shop.id, redemptionId, nonce))) {
        throw new ApiError("conflict", "This redemption's store credit is being taken back by another request; try again.");
      }
      const connection = await shopifyConnection(env, shop);
      try {
        if (!connection) throw new ShopifyAdminError("http", "the shop is not connected to Shopify");
        const debit = await debitStoreCredit(
          { origin: adminOrigin(env, connection.shopifyDomain), accessToken: connection.accessToken },
          { customerId: credit.customerId, amount: formatMoney(credit.value ?? 0, shop.currency), currency: shop.currency },
        );
        await endStoreCreditReversal(env.DB, shop.id, redemptionId, nonce, debit.transactionId);
      } catch (err) {
        if (!(err instanceof ShopifyAdminError || err instanceof StoreCreditUnavailable)) throw err;
        await endStoreCreditReversal(env.DB, shop.id, redemptionId, nonce, null);
        throw new ApiError(
          "rule_violation",
          `The store credit could not be taken back from the customer (${err.message}); the redemption stays. If they spent it, it cannot be voided.`,
        );
      }
    },
  };
}

/** A Shopify code left 'pending' this long had its request die between the debit and Shopify. */
export const UNCONFIRMED_CODE_AFTER_MS = 10 * 60_000;
/** How long the sweep keeps asking a Shopify it cannot reach before it voids the code anyway. */
const UNREACHABLE_FOR_MS = 24 * 3_600_000;

export interface CodeSweep {
  confirmed: number;
  voided: number;
}

/**
 * The scheduled sweep of a Shopify shop's codes left 'pending' for longer than a few minutes (a
 * crash between the debit and the Admin API call): confirmed when Shopify has the discount, else
 * voided with their points back, atomically and once (the void is guarded on the code still being
 * issued and pending, and the reversal is keyed by the redemption). A code Shopify cannot be asked
 * about (throttled, down, token refused) waits for the next sweep, for up to a day.
 */
export async function sweepPendingShopifyCodes(
  env: Env,
  shop: Shop,
  now: Date,
  discounts: DiscountIssuer = shopifyDiscountIssuer(env),
): Promise<CodeSweep> {
  const sweep: CodeSweep = { confirmed: 0, voided: 0 };
  const before = new Date(now.getTime() - UNCONFIRMED_CODE_AFTER_MS).toISOString();
  const pending = await pendingShopifyRedemptions(env.DB, shop.id, before, 100);
  if (pending.length === 0) return sweep;
  const connection = await shopifyConnection(env, shop);
  for (const redemption of pending) {
    if (redemption.code === null) continue;
    let reason = "The shop is not connected to Shopify, so the code was never created there.";
    if (connection) {
      try {
        if (await discounts.findCode(connection, redemption.code)) {
          if (await markShopifyCodeCreated(env.DB, shop.id, redemption.id)) sweep.confirmed++;
          continue;
        }
        reason = "Shopify has no discount for this code: the redemption stopped before creating it.";
      } catch (err) {
        if (!(err instanceof ShopifyAdminError)) throw err;
        if (now.getTime() - Date.parse(redemption.createdAt) < UNREACHABLE_FOR_MS) continue;
        reason = `Shopify could not be asked about the code for a day: ${err.message}`;
      }
    }
    if ((await voidUnconfirmed(env, shop, redemption, reason, now)) !== null) sweep.voided++;
  }
  return sweep;
}
