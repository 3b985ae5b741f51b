import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../../worker/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** The second local database of the many-databases tests (vitest.config.ts). */
      DB_1: D1Database;
    }
    interface GlobalProps {
      mainModule: typeof import("../../worker/index");
    }
  }
}
