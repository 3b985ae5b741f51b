/** Balance, tier and the progress bar to the next tier. */
import { useComputed } from "@preact/signals";
import type { StorefrontCustomer } from "../../../worker/contract/types";
import { useEnv } from "./env";
import { ProgressBar } from "./ui";

export function Summary(props: { customer: StorefrontCustomer }) {
  const { t, fmt, state } = useEnv();
  const { customer } = props;
  // The balance text is its own signal: a points change updates this one text node.
  const balance = useComputed(() => t.value("points", { n: state.value?.customer?.balance ?? 0 }));
  const tiers = state.value?.program.tiers ?? [];
  const perks = tiers.find((tier) => tier.name === customer.tier)?.perks;
  const next = customer.nextTier;
  const remaining = customer.remainingToNextTier ?? 0;
  return (
    <section class="card summary" aria-labelledby="laurel-balance">
      <p id="laurel-balance" class="muted">
        {t.value("balance")}
      </p>
      <p class="points-total" aria-live="polite" aria-atomic="true">
        {balance}
      </p>
      <p class="tier">{customer.tier ? t.value("tierMember", { tier: customer.tier }) : t.value("member")}</p>
      {next && (
        <>
          <ProgressBar
            value={Math.round(customer.progress * 100)}
            max={100}
            label={t.value("tierProgress", { tier: next.name })}
            valueText={fmt.value.percent(Math.round(customer.progress * 100))}
          />
          <p class="small">
            {next.basis === "spend"
              ? t.value("toNextTierSpend", { amount: fmt.value.units(remaining), tier: next.name })
              : t.value("toNextTierPoints", { n: remaining, tier: next.name })}
          </p>
        </>
      )}
      {!next && tiers.length > 0 && <p class="small">{t.value("topTier")}</p>}
      {perks && <p class="small muted">{t.value("perks", { perks })}</p>}
    </section>
  );
}
