import type { Program } from "../contract/program";
import type { Env } from "../env";
import { forgetPublicProgram } from "../store/cache";
import { type Shop, updateProgram } from "../store/shops";

/** Saves a validated program and drops the widget's cached copy so shoppers see it at once. */
export async function saveProgram(env: Env, shop: Shop, program: Program): Promise<void> {
  await updateProgram(env.DB, shop.id, program);
  await forgetPublicProgram(env.KV, shop.id);
}
