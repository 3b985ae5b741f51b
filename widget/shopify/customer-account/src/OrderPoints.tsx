/**
 * customer-account.order-status.block.render: on the order status page, what the order earned
 * ("You earned 404 points with this order"), or that its points are on their way (the order's
 * webhook has not arrived yet).
 */
import "@shopify/ui-extensions/preact";
import type { Api } from "@shopify/ui-extensions/customer-account.order-status.block.render";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type ExtensionApi, type OrderPoints as Points, orderPoints, problemText } from "./laurel";

declare const shopify: Api;

export default async () => {
  render(<OrderPoints api={shopify} orderId={shopify.order.value?.id ?? ""} />, document.body);
};

export function OrderPoints({ api, orderId }: { api: ExtensionApi; orderId: string }) {
  const t = api.i18n.translate;
  const [points, setPoints] = useState<Points | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    orderPoints(api, orderId).then(setPoints, (error: unknown) => setProblem(problemText(api, error)));
  }, [api, orderId]);

  if (problem) return <s-banner tone="warning">{problem}</s-banner>;
  if (!points) return null;
  const earned = points.order && points.order.points > 0 ? points.order.points : null;
  return (
    <s-banner tone={earned ? "success" : "info"} heading={t("title")}>
      <s-stack gap="small">
        <s-text>{earned ? t("earned", { count: earned }) : t("pending")}</s-text>
        <s-link href="extension:laurel-customer-account/customer-account.page.render">{t("seeRewards")}</s-link>
      </s-stack>
    </s-banner>
  );
}
