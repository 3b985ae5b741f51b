import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, and where results go (git-ignored). */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const resultsDir = join(root, "bench", "results");
export const publicDir = join(root, "dist", "public");
