import type { DeliveryMessage } from "./store/webhook-dispatch";

/** The worker's bindings, as wrangler.toml and `.dev.vars` declare them. */
export interface Env {
  /** The database of the request's shop (services/databases.ts); the home database until one is resolved. */
  DB: D1Database;
  /**
   * The D1 bindings shops are spread over, comma-separated (`DB,DB_1,DB_2`); `DB` alone when unset.
   * Each one listed needs the migrations applied (README "Scaling").
   */
  DATABASES?: string;
  /** Set by the worker itself when `DB` is another database than home: the home one (the directory). */
  HOME_DB?: D1Database;
  /** Milliseconds a shop move waits for other isolates' caches (default a little over 5 s; tests: 0). */
  MOVE_SETTLE_MS?: string;
  /** Set by the worker itself: the binding name `DB` stands for, when it is not home. */
  DB_NAME?: string;
  KV: KVNamespace;
  ASSETS: Fetcher;
  /** Storefront session creation, per address. */
  SESSION_LIMITER: RateLimit;
  /** Storefront writes, per session (or address for public writes). */
  WRITE_LIMITER: RateLimit;
  /** Operator token for `POST /v1/shops` (a worker secret). */
  ADMIN_TOKEN: string;
  /** The Shopify app's client secret: webhook and app proxy signatures. */
  SHOPIFY_API_SECRET: string;
  /** The Shopify app's client id, for the OAuth install (a plain var, not a secret). */
  SHOPIFY_API_KEY?: string;
  /** "on" serves the demo shop and its signing route. */
  DEMO?: string;
  /** "on" reports the worker's own counters to `npm run bench` (routes/bench.ts). */
  BENCH?: string;
  /**
   * "queue": `/shopify/webhooks` verifies, enqueues the raw delivery on INGEST_QUEUE and answers 200
   * at once (services/ingest-queue.ts); anything else applies it before answering (the default).
   */
  SHOPIFY_WEBHOOKS?: string;
  /** Shopify deliveries waiting to be applied, in the queue mode above. */
  INGEST_QUEUE?: Queue<import("./services/ingest-queue").QueuedDelivery>;
  /** Webhook deliveries (services/webhook-delivery.ts); its dead letters go to laurel-webhooks-dlq. */
  WEBHOOKS_QUEUE?: Queue<DeliveryMessage>;
  /** Seals endpoint signing secrets (a worker secret; ADMIN_TOKEN when not set). */
  WEBHOOK_SECRETS_KEY?: string;
  /** Multiplies the retry delays: "0" in the tests, so the queue's retries and dead letters come at once. */
  WEBHOOK_RETRY_SCALE?: string;
  /** A DNS-over-HTTPS JSON endpoint to see where an endpoint's host name resolves (unset: not looked up). */
  WEBHOOK_DNS_RESOLVER?: string;
  /** Overrides the Shopify Admin API origin (tests point it at a local fake). */
  SHOPIFY_ADMIN_ORIGIN?: string;
}
