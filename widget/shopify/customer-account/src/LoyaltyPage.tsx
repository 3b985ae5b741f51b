/**
 * customer-account.page.render: the loyalty page in the customer's account, the same state the
 * storefront widget shows (balance, tier and progress, rewards, ways to earn, the referral link).
 */
import "@shopify/ui-extensions/preact";
import type { Api } from "@shopify/ui-extensions/customer-account.page.render";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { StorefrontState } from "../../../../worker/contract/types";
import { type ExtensionApi, loyaltyState, problemText } from "./laurel";

declare const shopify: Api;

export default async () => {
  render(<LoyaltyPage api={shopify} />, document.body);
};

export function LoyaltyPage({ api }: { api: ExtensionApi }) {
  const t = api.i18n.translate;
  const [state, setState] = useState<StorefrontState | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    loyaltyState(api).then(setState, (error: unknown) => setProblem(problemText(api, error)));
  }, [api]);

  if (problem) {
    return (
      <s-page heading={t("title")}>
        <s-banner tone="warning">{problem}</s-banner>
      </s-page>
    );
  }
  if (!state) {
    return (
      <s-page heading={t("title")}>
        <s-spinner accessibilityLabel={t("title")} />
      </s-page>
    );
  }
  const { customer, program, rewards } = state;
  const ways = program.waysToEarn;
  return (
    <s-page heading={t("title")}>
      {customer && (
        <s-section>
          <s-stack gap="base">
            <s-heading>{t("balance", { count: customer.balance })}</s-heading>
            {customer.tier && <s-text>{t("tier", { tier: customer.tier })}</s-text>}
            {customer.nextTier && (
              <>
                <s-progress value={customer.progress} max={1} accessibilityLabel={customer.nextTier.name} />
                {customer.nextTier.basis === "lifetime_points" && customer.remainingToNextTier !== null && (
                  <s-text color="subdued">{t("nextTier", { points: customer.remainingToNextTier, tier: customer.nextTier.name })}</s-text>
                )}
              </>
            )}
          </s-stack>
        </s-section>
      )}
      {rewards.length > 0 && (
        <s-section heading={t("rewards")}>
          <s-stack gap="base">
            {rewards.map((reward) => (
              <s-stack key={reward.id} direction="inline" gap="base" justifyContent="space-between">
                <s-text type="strong">{reward.name}</s-text>
                <s-text>{t("cost", { points: reward.cost })}</s-text>
                {reward.affordable && <s-badge>{t("affordable")}</s-badge>}
              </s-stack>
            ))}
          </s-stack>
        </s-section>
      )}
      <s-section heading={t("waysToEarn")}>
        <s-stack gap="base">
          <s-text>{t("perUnit", { points: program.earning.pointsPerUnit, unit: program.currency })}</s-text>
          {(["signup", "birthday", "review", "nps"] as const)
            .filter((way) => ways[way] > 0)
            .map((way) => (
              <s-text key={way}>{t(`way.${way}`, { points: ways[way] })}</s-text>
            ))}
        </s-stack>
      </s-section>
      {customer && (
        <s-section heading={t("referral")}>
          <s-stack gap="base">
            <s-paragraph>{t("referralHint")}</s-paragraph>
            <s-link href={customer.referralLink} target="_blank">
              {customer.referralLink}
            </s-link>
          </s-stack>
        </s-section>
      )}
    </s-page>
  );
}
