/** Wording built from the program: reward and offer descriptions, error messages. */
import type { ApiError } from "../../shared/api";
import type { Formatter } from "../../shared/format";
import type { Translate } from "../../shared/i18n";

type Value = string | number | null | undefined;

function money(fmt: Formatter, value: Value): string {
  return value === null || value === undefined ? "" : fmt.decimal(String(value));
}

/** "€5.00 off", "10% off", "Free shipping"... */
export function describeReward(t: Translate, fmt: Formatter, type: string, value: Value): string {
  switch (type) {
    case "amount_off":
      return t("amountOff", { amount: money(fmt, value) });
    case "percent_off":
      return t("percentOff", { percent: fmt.percent(Number(value ?? 0)) });
    case "free_shipping":
      return t("freeShipping");
    case "free_product":
      return t("freeProduct");
    case "store_credit":
      return t("storeCredit", { amount: money(fmt, value) });
    default:
      return "";
  }
}

/** What a shopper can do about a failed request. */
export function errorText(t: Translate, error: ApiError, context: "claim" | "other" = "other"): string {
  switch (error.code) {
    case "offline":
      return t("errOffline");
    case "rate_limited":
      // A long wait (a claim burst is told to come back in an hour) reads better without a count.
      return error.retryAfter > 300 ? t("errTryLater") : t("errRateLimited", { n: error.retryAfter });
    case "insufficient_points":
      return t("errInsufficient");
    case "not_found":
      return t("errNotFound");
  }
  if (context === "claim") {
    const reason = error.details?.reason;
    if (reason === "email_already_claimed" || error.status === 409) return t("errClaimed");
    if (reason === "self_referral") return t("errOwnReferral");
    if (error.status === 422) return t("errNotEligible");
  }
  return t("errGeneric");
}

/** Only http(s) links from the program (sign-up, login) become hrefs. */
export function safeUrl(url: string | null | undefined): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}
