/**
 * The landing flow for `?ref=CODE`: who sent the shopper, the offer, an email to claim it, and
 * then the shopper's own code to use at checkout.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiError } from "../../shared/api";
import type { ReferralClaim, ReferralLookup } from "../../../worker/contract/types";
import { useEnv } from "./env";
import { describeReward } from "./text";
import { CodeBox, ErrorNote } from "./ui";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function Referee(props: { code: string }) {
  const { t, fmt, core, state } = useEnv();
  const [lookup, setLookup] = useState<ReferralLookup | null>(null);
  const [claim, setClaim] = useState<ReferralClaim | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [email, setEmail] = useState("");
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const shop = state.value?.program.shopName ?? "";

  useEffect(() => {
    let current = true;
    core
      .lookupReferral(props.code)
      .then((found) => current && setLookup(found))
      .catch((failure) => current && setError(failure as ApiError));
    return () => {
      current = false;
    };
  }, [props.code]);
  useEffect(() => {
    if (lookup) input.current?.focus();
  }, [lookup]);

  if (claim) {
    const offer = describeReward(t.value, fmt.value, claim.offer.type, claim.offer.value);
    return (
      <section class="card referee" aria-labelledby="laurel-referee">
        <h3 id="laurel-referee">{offer}</h3>
        <CodeBox code={claim.offerCode} label={t.value("yourCode")} hint={t.value("refDone")} />
      </section>
    );
  }
  if (!lookup) {
    return error ? <ErrorNote error={error} /> : <p class="muted">{t.value("loading")}</p>;
  }
  const { firstName, offer } = lookup.referral;
  const offerText = describeReward(t.value, fmt.value, offer.type, offer.value);

  async function submit(event: Event) {
    event.preventDefault();
    const address = email.trim();
    setInvalid(!EMAIL.test(address));
    if (!EMAIL.test(address)) {
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setClaim(await core.claimReferral(props.code, address));
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card referee" aria-labelledby="laurel-referee">
      <h3 id="laurel-referee">{firstName ? t.value("refTitle", { name: firstName }) : t.value("refTitleAnon")}</h3>
      <p>{t.value("refPitch", { offer: offerText, shop })}</p>
      <form onSubmit={submit} noValidate>
        <label for="laurel-referee-email">{t.value("email")}</label>
        <input
          id="laurel-referee-email"
          ref={input}
          type="email"
          autoComplete="email"
          required
          value={email}
          aria-invalid={invalid}
          aria-describedby={invalid ? "laurel-referee-invalid" : undefined}
          onInput={(event) => setEmail((event.currentTarget as HTMLInputElement).value)}
        />
        {invalid && (
          <p id="laurel-referee-invalid" class="small invalid">
            {t.value("invalidEmail")}
          </p>
        )}
        {error && <ErrorNote error={error} context="claim" />}
        <button type="submit" class="primary wide" disabled={busy} aria-busy={busy}>
          {t.value("claim")}
        </button>
      </form>
    </section>
  );
}
