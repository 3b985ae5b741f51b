import type { Env } from "./env";
import type { Shop } from "./store/shops";

/** Hono's typing for every router: the bindings and what middleware puts on `c.var`. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The shop a merchant key, webhook signature or storefront token authenticated. */
    shop: Shop;
    /** The storefront session's customer (external id), when it is not a guest's. */
    customerId: string | null;
    /** The storefront origins of the session's shop, when only its public part was loaded. */
    shopOrigins: string[];
  };
}
