/** What a guest sees: the ways to earn and a join prompt with the merchant's links. */
import type { StorefrontState } from "../../../worker/contract/types";
import { useEnv } from "./env";
import { safeUrl } from "./text";

export function JoinPrompt(props: { program: StorefrontState["program"] }) {
  const { t } = useEnv();
  const { program } = props;
  const signup = safeUrl(program.branding.signupUrl);
  const login = safeUrl(program.branding.loginUrl);
  return (
    <section class="card join" aria-labelledby="laurel-join">
      <h3 id="laurel-join">{t.value("guestTitle", { shop: program.shopName })}</h3>
      <p>{t.value("guestPitch")}</p>
      {signup && (
        <a class="button primary" href={signup}>
          {t.value("join")}
        </a>
      )}
      {login && (
        <p class="small">
          {t.value("alreadyMember")} <a href={login}>{t.value("signIn")}</a>
        </p>
      )}
    </section>
  );
}

export function WaysToEarn(props: { program: StorefrontState["program"]; member: boolean }) {
  const { t, fmt } = useEnv();
  const { earning, waysToEarn, referral } = props.program;
  const ways: Array<[string, number]> = [];
  if (!props.member && waysToEarn.signup > 0) ways.push([t.value("waySignup"), waysToEarn.signup]);
  if (waysToEarn.birthday > 0) ways.push([t.value("wayBirthday"), waysToEarn.birthday]);
  if (waysToEarn.review > 0) ways.push([t.value("wayReview"), waysToEarn.review]);
  if (waysToEarn.nps > 0) ways.push([t.value("wayNps"), waysToEarn.nps]);
  if ((waysToEarn.social ?? 0) > 0) ways.push([t.value("waySocial"), waysToEarn.social ?? 0]);
  if (referral.referrerPoints > 0) ways.push([t.value("wayReferral"), referral.referrerPoints]);
  return (
    <section aria-labelledby="laurel-ways">
      <h3 id="laurel-ways">{t.value("waysTitle")}</h3>
      <ul class="ways">
        {earning.pointsPerUnit > 0 && (
          <li>
            <span>{t.value("earnPerUnit", { n: earning.pointsPerUnit, amount: fmt.value.units(1) })}</span>
          </li>
        )}
        {ways.map(([label, points]) => (
          <li key={label}>
            <span>{label}</span>
            <span class="cost">{t.value("points", { n: points })}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
