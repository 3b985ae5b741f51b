/**
 * "Earn N points" next to products: `<span data-laurel-earn data-price="49.99"
 * data-product-type="shoes">`. Computed by worker/domain/earning, the very function the server
 * awards with, so a nudge and the points an order earns never disagree.
 */
import type { StorefrontState } from "../../worker/contract/types";
import { pointsForProduct } from "../../worker/domain/earning";
import { parseMoney } from "../../worker/domain/money";
import type { Translate } from "../shared/i18n";

const SELECTOR = "[data-laurel-earn]";

export function renderNudges(root: ParentNode, state: StorefrontState, t: Translate): void {
  const { earning, currency, tiers } = state.program;
  const tier = state.customer?.tier;
  const multiplier = tiers.find((rule) => rule.name === tier)?.multiplier ?? 1;
  for (const element of root.querySelectorAll<HTMLElement>(SELECTOR)) {
    const price = parseMoney(element.dataset.price ?? "", currency);
    const points =
      price === null ? 0 : pointsForProduct(earning, currency, price, element.dataset.productType || undefined, multiplier);
    const text = points > 0 ? t("earn", { n: points }) : "";
    // Only write on change: the observer below sees our own writes too.
    if (element.textContent !== text) element.textContent = text;
  }
}

/** Re-renders when nudges appear or their price changes (variant pickers, infinite lists). */
export function watchNudges(doc: Document, render: () => void): void {
  let queued = false;
  const isOrHasNudge = (node: Node) =>
    node instanceof Element && (node.matches(SELECTOR) || node.querySelector(SELECTOR) !== null);
  new MutationObserver((records) => {
    if (queued) return;
    for (const record of records) {
      const relevant =
        record.type === "attributes"
          ? (record.target as Element).matches(SELECTOR)
          : Array.from(record.addedNodes).some(isOrHasNudge);
      if (relevant) {
        queued = true;
        queueMicrotask(() => {
          queued = false;
          render();
        });
        return;
      }
    }
  }).observe(doc.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["data-price", "data-product-type", "data-laurel-earn"],
  });
}
