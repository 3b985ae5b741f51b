import { Scalar } from "@scalar/hono-api-reference";
import { secureHeaders } from "hono/secure-headers";
import { ApiError } from "./http/errors";
import { dispatchAfterWrites } from "./http/dispatch";
import { bodyRules } from "./http/guards";
import { onError } from "./http/on-error";
import { shopDatabase } from "./http/shop-database";
import { newRouter } from "./http/validation";
import { benchRoutes } from "./routes/bench";
import { consoleRoutes } from "./routes/console";
import { databaseRoutes } from "./routes/databases";
import { demoRoutes } from "./routes/demo";
import { engagementRoutes } from "./routes/engagement";
import { eventRoutes } from "./routes/events";
import { importRoutes } from "./routes/imports";
import { loopRoutes } from "./routes/loop";
import { merchantRoutes } from "./routes/merchant";
import { operatorRoutes } from "./routes/operator";
import { rewardRoutes } from "./routes/rewards";
import { EMBEDDED_APP_PATH, shopifyRoutes } from "./routes/shopify";
import { customerAccountRoutes } from "./routes/shopify-customer-account";
import { storefrontRoutes } from "./routes/storefront";
import { webhookRoutes } from "./routes/webhooks";

/** The whole API: one router per surface, one error exit, the OpenAPI document from the same schemas. */
export const app = newRouter();

const secure = secureHeaders({ crossOriginResourcePolicy: false, crossOriginOpenerPolicy: false });
// The embedded app is framed by the Shopify admin: its own CSP frame-ancestors (routes/shopify.ts)
// stands in for X-Frame-Options there.
const framable = secureHeaders({ crossOriginResourcePolicy: false, crossOriginOpenerPolicy: false, xFrameOptions: false });
app.use("*", (c, next) => (c.req.path === EMBEDDED_APP_PATH ? framable(c, next) : secure(c, next)));
app.use("/v1/*", bodyRules);
app.use("/shopify/*", bodyRules);
// With several databases, the request's env.DB becomes its shop's database (after the body is read).
app.use("*", shopDatabase);
app.use("/v1/*", dispatchAfterWrites);
app.use("/shopify/*", dispatchAfterWrites);

app.route("/", operatorRoutes);
app.route("/", merchantRoutes);
app.route("/", eventRoutes);
app.route("/", rewardRoutes);
app.route("/", importRoutes);
app.route("/", storefrontRoutes);
app.route("/", engagementRoutes);
app.route("/", loopRoutes);
app.route("/", demoRoutes);
app.route("/", consoleRoutes);
app.route("/", shopifyRoutes);
app.route("/", customerAccountRoutes);
app.route("/", benchRoutes);
app.route("/", databaseRoutes);
app.route("/", webhookRoutes);

app.openAPIRegistry.registerComponent("securitySchemes", "secretKey", {
  type: "http",
  scheme: "bearer",
  description: "The shop's secret key (sk_...), for the merchant API.",
});
app.openAPIRegistry.registerComponent("securitySchemes", "operatorToken", {
  type: "http",
  scheme: "bearer",
  description: "The operator's ADMIN_TOKEN (a worker secret).",
});
app.openAPIRegistry.registerComponent("securitySchemes", "standardWebhooks", {
  type: "apiKey",
  in: "header",
  name: "webhook-signature",
  description: "Standard Webhooks signature with the shop's webhook secret; pass ?shop=<publicKey>.",
});
app.openAPIRegistry.registerComponent("securitySchemes", "storefrontToken", {
  type: "http",
  scheme: "bearer",
  description: "A storefront session token from POST /v1/storefront/sessions.",
});

app.doc31("/v1/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Laurel API",
    version: "1.0.0",
    description:
      "Loyalty points, tiers, rewards, challenges, referrals and NPS for any online shop. Errors are " +
      '`{"error":{"code","message","details?"}}`. Money is a decimal string in the shop\'s currency; points are integers.',
  },
});

// The reference UI's script is served from our own assets so /docs works with no internet; its
// hosted extras (the AI chat, MCP, the Share/Deploy toolbar) would call scalar.com: off.
app.get(
  "/docs",
  Scalar({
    url: "/v1/openapi.json",
    cdn: "/docs/scalar.js",
    pageTitle: "Laurel API",
    withDefaultFonts: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: "never",
    // No icon to fetch (the browser would ask for /favicon.ico and log a 404).
    favicon: "data:,",
  }),
);
app.get("/docs/", (c) => c.redirect("/docs", 301));

app.notFound((c) => {
  throw new ApiError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
});
app.onError(onError);
