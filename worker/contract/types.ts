/** Types only, for the browser code: `import type { ... } from "../../worker/contract/types"`. */
export type { Program, TierRule } from "./program";
export type {
  LedgerEntry,
  Redemption,
  StorefrontChallenge,
  StorefrontCustomer,
  StorefrontReward,
  StorefrontSession,
  StorefrontState,
} from "./storefront";
