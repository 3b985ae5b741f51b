/** The member's referral link, with copy and (where the browser has it) the Web Share API. */
import type { StorefrontCustomer } from "../../../worker/contract/types";
import { useEnv } from "./env";
import { describeReward } from "./text";
import { CopyButton } from "./ui";

export function Referral(props: { customer: StorefrontCustomer }) {
  const { t, fmt, state } = useEnv();
  const program = state.value?.program;
  if (!program) return null;
  const link = props.customer.referralLink;
  const { refereeOffer, referrerPoints } = program.referral;
  const offer = describeReward(t.value, fmt.value, refereeOffer.type, refereeOffer.value);
  const pitch =
    referrerPoints > 0
      ? t.value("referralPitch", { offer, points: t.value("points", { n: referrerPoints }) })
      : t.value("referralPitchOffer", { offer });
  const canShare = typeof navigator.share === "function";
  return (
    <section aria-labelledby="laurel-referral">
      <h3 id="laurel-referral">{t.value("referralTitle")}</h3>
      <p class="small">{pitch}</p>
      <label class="small muted" for="laurel-referral-link">
        {t.value("referralLink")}
      </label>
      <div class="row">
        <input
          id="laurel-referral-link"
          class="link"
          type="text"
          readOnly
          value={link}
          onFocus={(event) => (event.currentTarget as HTMLInputElement).select()}
        />
        <CopyButton text={link} label={t.value("copyLink")} />
        {canShare && (
          <button
            type="button"
            class="secondary"
            onClick={() =>
              navigator
                .share({ title: program.shopName, text: t.value("shareText", { offer, shop: program.shopName }), url: link })
                .catch(() => {})
            }
          >
            {t.value("share")}
          </button>
        )}
      </div>
    </section>
  );
}
