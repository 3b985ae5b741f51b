import type { Program } from "../contract/program";
import type { Env } from "../env";
import { forgetCachedShop } from "../store/cache";
import { type Shop, updateProgram } from "../store/shops";

/** Saves a validated program and forgets the cached shop, so requests and shoppers see it at once. */
export async function saveProgram(env: Env, shop: Shop, program: Program): Promise<void> {
  await updateProgram(env.DB, shop.id, program);
  await forgetCachedShop(env.KV, shop.id);
}
