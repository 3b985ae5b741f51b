/** Types only, for the browser code: `import type { ... } from "../../worker/contract/types"`. */
export type { ActionReceipt, NpsReceipt, ReferralClaim, ReferralLookup } from "./engagement";
export type { Program, TierRule } from "./program";
export type { DataRequestList, ShopifyEmbeddedSession } from "./shopify";
export type {
  LedgerEntry,
  Redemption,
  StorefrontChallenge,
  StorefrontCustomer,
  StorefrontReward,
  StorefrontSession,
  StorefrontState,
} from "./storefront";
