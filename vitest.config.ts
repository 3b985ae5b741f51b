import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("worker/migrations");

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                ADMIN_TOKEN: "test-admin-token",
                SHOPIFY_API_SECRET: "test-shopify-secret",
                DEMO: "on",
                // Webhook retries come at once in the tests (the schedule itself is tested as data).
                WEBHOOK_RETRY_SCALE: "0",
              },
              // A second local database for the many-databases tests (test/worker/databases.test.ts);
              // every other test runs on DB alone, as `npm start` does (DATABASES lists the ones in use).
              d1Databases: { DB_1: "laurel-1" },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          // Shared 2-core machines: generous per-test time; speed is measured by `npm run bench`.
          testTimeout: 30_000,
          setupFiles: ["test/worker/setup.ts"],
        },
      },
      {
        plugins: [preact()],
        test: {
          name: "widget",
          include: ["test/widget/**/*.test.{ts,tsx}"],
          environment: "happy-dom",
        },
      },
    ],
  },
});
