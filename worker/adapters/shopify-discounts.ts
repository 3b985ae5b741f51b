/**
 * Discount codes for Shopify shops: a redemption's code is also created in the shop
 * through the Admin GraphQL API, so that checkout accepts it. `discountCodeBasicCreate` covers
 * amount off, percent off, free product and store credit (as a fixed amount off, where the store
 * has no Shopify store credit: services/codes.ts credits it as store credit otherwise);
 * `discountCodeFreeShippingCreate` covers free shipping. Any failure is a ShopifyAdminError: the
 * caller voids the redemption and gives the points back.
 */
import {
  type AdminClientOptions,
  adminGraphql,
  adminOrigin,
  ShopifyAdminError,
  type ShopifyUserError,
} from "./shopify-admin";

export type RewardType = "amount_off" | "percent_off" | "free_shipping" | "free_product" | "store_credit";

/** What the code is worth, as the reward describes it. */
export interface DiscountReward {
  name: string;
  type: RewardType;
  /** A decimal string for money; a number (or numeric string) for percent; a product id for free_product. */
  value?: string | number | null;
  /** The minimum order subtotal, a decimal string. */
  minOrder?: string | null;
  /** When the code stops being valid (ISO 8601); absent or null: never. */
  endsAt?: string | null;
}

export interface ShopifyShopConnection {
  shopifyDomain: string;
  accessToken: string;
}

export interface IssuedDiscount {
  code: string;
  /** The `DiscountCodeNode` gid, when Shopify told us. */
  discountId: string | null;
}

/** The seam the redemption flow calls; tests and non-Shopify shops substitute their own. */
export interface DiscountIssuer {
  createCode(shop: ShopifyShopConnection, input: { code: string; reward: DiscountReward }): Promise<IssuedDiscount>;
  /** The code's discount if the shop has one (`codeDiscountNodeByCode`), else null. */
  findCode(shop: ShopifyShopConnection, code: string): Promise<IssuedDiscount | null>;
}

const BASIC_MUTATION = `mutation LaurelDiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`;

const FREE_SHIPPING_MUTATION = `mutation LaurelDiscountCodeFreeShippingCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`;

const NODE_BY_CODE_QUERY = `query LaurelCodeDiscountNodeByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}`;

const DECIMAL = /^\d{1,13}(\.\d{1,6})?$/;

export type DiscountMutation =
  | { root: "discountCodeBasicCreate"; query: string; variables: { basicCodeDiscount: Record<string, unknown> } }
  | {
      root: "discountCodeFreeShippingCreate";
      query: string;
      variables: { freeShippingCodeDiscount: Record<string, unknown> };
    };

function unsupported(message: string): ShopifyAdminError {
  return new ShopifyAdminError("unsupported", message);
}

/** A product id as Shopify's gid, from a gid or a bare numeric id. */
function productGid(value: string | number | null | undefined): string | null {
  const text = String(value ?? "").trim();
  if (/^gid:\/\/shopify\/Product\/\d+$/.test(text)) return text;
  return /^\d{1,20}$/.test(text) ? `gid://shopify/Product/${text}` : null;
}

/**
 * The documented input for the reward: a single-use code (usageLimit 1, once per customer), open
 * to every buyer (`context: {all: ALL}`, since API version 2025-10 the replacement of `customerSelection`), starting
 * now and ending when the code expires (`endsAt`, when the reward has validityDays), titled after the
 * reward so merchants recognise it in their discounts list.
 */
export function discountMutationFor(code: string, reward: DiscountReward, now: Date): DiscountMutation {
  const common: Record<string, unknown> = {
    title: `Laurel reward: ${reward.name}`.slice(0, 255),
    code,
    startsAt: now.toISOString(),
    context: { all: "ALL" },
    usageLimit: 1,
    appliesOncePerCustomer: true,
  };
  // The reward's validityDays: Shopify's checkout stops accepting the code at the same moment.
  if (reward.endsAt) common.endsAt = reward.endsAt;
  if (reward.minOrder && reward.minOrder !== "0") {
    if (!DECIMAL.test(reward.minOrder)) throw unsupported(`minOrder ${reward.minOrder} is not a decimal amount`);
    common.minimumRequirement = { subtotal: { greaterThanOrEqualToSubtotal: reward.minOrder } };
  }

  if (reward.type === "free_shipping") {
    return {
      root: "discountCodeFreeShippingCreate",
      query: FREE_SHIPPING_MUTATION,
      variables: { freeShippingCodeDiscount: { ...common, destination: { all: true } } },
    };
  }

  let customerGets: Record<string, unknown>;
  if (reward.type === "amount_off" || reward.type === "store_credit") {
    // Shopify's store credit lives outside discount codes; a fixed amount off is its checkout form.
    const amount = String(reward.value ?? "");
    if (!DECIMAL.test(amount) || Number(amount) <= 0) throw unsupported(`${reward.type} needs a positive amount`);
    customerGets = { value: { discountAmount: { amount, appliesOnEachItem: false } }, items: { all: true } };
  } else if (reward.type === "percent_off") {
    const percent = Number(reward.value);
    if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
      throw unsupported("percent_off needs a value between 0 and 100");
    }
    // DiscountPercentage is a fraction between 0 and 1.
    customerGets = { value: { percentage: Math.round(percent * 100) / 10_000 }, items: { all: true } };
  } else if (reward.type === "free_product") {
    const product = productGid(reward.value);
    if (!product) throw unsupported("free_product needs the Shopify product id as its value");
    customerGets = { value: { percentage: 1 }, items: { products: { productsToAdd: [product] } } };
  } else {
    throw unsupported(`reward type ${String(reward.type)} has no Shopify discount`);
  }
  return {
    root: "discountCodeBasicCreate",
    query: BASIC_MUTATION,
    variables: { basicCodeDiscount: { ...common, customerGets } },
  };
}

interface MutationPayload {
  codeDiscountNode: { id: string } | null;
  userErrors: ShopifyUserError[];
}

function isCodeTaken(errors: ShopifyUserError[]): boolean {
  return errors.some((e) => e.code === "TAKEN" && (e.field ?? []).at(-1) === "code");
}

export interface ShopifyDiscountIssuerOptions extends AdminClientOptions {
  now?: () => Date;
}

/** The Shopify implementation of DiscountIssuer. */
export function shopifyDiscountIssuer(
  env: { SHOPIFY_ADMIN_ORIGIN?: string | undefined },
  options: ShopifyDiscountIssuerOptions = {},
): DiscountIssuer {
  return {
    async createCode(shop, { code, reward }) {
      const mutation = discountMutationFor(code, reward, options.now?.() ?? new Date());
      const target = { origin: adminOrigin(env, shop.shopifyDomain), accessToken: shop.accessToken };
      const result = await adminGraphql<Record<string, MutationPayload | null>>(
        target,
        mutation.query,
        mutation.variables,
        options,
      );
      const payload = result.data[mutation.root];
      if (!payload) throw new ShopifyAdminError("graphql", `${mutation.root} returned nothing.`);
      const userErrors = payload.userErrors ?? [];
      if (userErrors.length === 0 && payload.codeDiscountNode) {
        return { code, discountId: payload.codeDiscountNode.id };
      }
      // A retried mutation whose first attempt did run reports its own code as taken. The codes are
      // random and unguessable, so a TAKEN after an ambiguous failure is ours: confirm it exists.
      if (result.ambiguous && isCodeTaken(userErrors)) {
        const found = await adminGraphql<{ codeDiscountNodeByCode: { id: string } | null }>(
          target,
          NODE_BY_CODE_QUERY,
          { code },
          options,
        );
        if (found.data.codeDiscountNodeByCode) return { code, discountId: found.data.codeDiscountNodeByCode.id };
      }
      throw new ShopifyAdminError(
        "user_errors",
        userErrors.map((e) => e.message).join("; ") || `${mutation.root} created no discount.`,
        { userErrors, attempts: result.attempts },
      );
    },

    async findCode(shop, code) {
      const target = { origin: adminOrigin(env, shop.shopifyDomain), accessToken: shop.accessToken };
      const found = await adminGraphql<{ codeDiscountNodeByCode: { id: string } | null }>(target, NODE_BY_CODE_QUERY, { code }, options);
      const node = found.data.codeDiscountNodeByCode;
      return node ? { code, discountId: node.id } : null;
    },
  };
}
