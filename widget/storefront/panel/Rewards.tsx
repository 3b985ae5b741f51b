/** Rewards: redeem with a confirmation, then the code with a copy button. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { StorefrontReward } from "../../../worker/contract/types";
import { type ApiError, newKey } from "../../shared/api";
import { useEnv } from "./env";
import { describeReward } from "./text";
import { CodeBox, ErrorNote } from "./ui";

export function Rewards(props: { rewards: StorefrontReward[]; canRedeem: boolean }) {
  const { t } = useEnv();
  return (
    <section aria-labelledby="laurel-rewards">
      <h3 id="laurel-rewards">{t.value("rewardsTitle")}</h3>
      {props.rewards.length === 0 ? (
        <p class="muted">{t.value("noRewards")}</p>
      ) : (
        <ul class="list">
          {props.rewards.map((reward) => (
            <RewardItem key={reward.id} reward={reward} canRedeem={props.canRedeem} />
          ))}
        </ul>
      )}
    </section>
  );
}

type Step = { name: "idle" } | { name: "confirm"; key: string } | { name: "busy"; key: string };

export function RewardItem(props: { reward: StorefrontReward; canRedeem: boolean }) {
  const { t, fmt, core, state, issued } = useEnv();
  const { reward } = props;
  const [step, setStep] = useState<Step>({ name: "idle" });
  const [error, setError] = useState<ApiError | null>(null);
  const balance = state.value?.customer?.balance ?? 0;
  const code = issued.value[reward.id];
  const titleId = `laurel-reward-${reward.id}`;
  // "€5.00 off", unless the reward's own name says it already; then any minimum order.
  const description = describeReward(t.value, fmt.value, reward.type, reward.value);
  const details = [
    description.toLowerCase() === reward.name.toLowerCase() ? "" : description,
    reward.minOrder ? t.value("minOrder", { amount: fmt.value.decimal(reward.minOrder) }) : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const item = useRef<HTMLLIElement>(null);
  // Keyboard users land where the flow continues: confirm, then the code's copy button, or back.
  const [focusNext, setFocusNext] = useState<string | null>(null);
  useEffect(() => {
    if (!focusNext) return;
    item.current?.querySelector<HTMLElement>(focusNext)?.focus();
    setFocusNext(null);
  }, [focusNext]);

  async function redeem(key: string) {
    setStep({ name: "busy", key });
    setError(null);
    try {
      const result = await core.redeem(reward.id, key);
      issued.value = { ...issued.value, [reward.id]: result.redemption };
      setStep({ name: "idle" });
      setFocusNext(".codebox button");
    } catch (failure) {
      setError(failure as ApiError);
      // Same key on retry: a request that did land is answered from the server's record.
      setStep({ name: "confirm", key });
    }
  }

  return (
    <li class="item" ref={item} aria-labelledby={titleId}>
      <div class="row">
        <div>
          <p id={titleId} class="name">
            {reward.name}
          </p>
          {details && <p class="small muted">{details}</p>}
        </div>
        <p class="cost">{t.value("points", { n: reward.cost })}</p>
      </div>
      {code?.code && <CodeBox code={code.code} label={t.value("yourCode")} hint={t.value("useAtCheckout")} />}
      {props.canRedeem && step.name === "idle" && (
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={!reward.affordable}
            aria-describedby={reward.affordable ? undefined : `${titleId}-need`}
            onClick={() => {
              setStep({ name: "confirm", key: newKey() });
              setFocusNext(".confirm .primary");
            }}
          >
            {t.value("redeem")}
          </button>
          {!reward.affordable && (
            <span id={`${titleId}-need`} class="small muted">
              {t.value("needMore", { n: Math.max(0, reward.cost - balance) })}
            </span>
          )}
        </div>
      )}
      {step.name !== "idle" && (
        <div class="confirm">
          <p>{t.value("confirmRedeem", { points: t.value("points", { n: reward.cost }), reward: reward.name })}</p>
          {error && <ErrorNote error={error} />}
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={step.name === "busy"}
              aria-busy={step.name === "busy"}
              onClick={() => redeem(step.key)}
            >
              {t.value("confirm")}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={step.name === "busy"}
              onClick={() => {
                setError(null);
                setStep({ name: "idle" });
                setFocusNext(".actions .primary");
              }}
            >
              {t.value("cancel")}
            </button>
          </div>
        </div>
      )}
    </li>
  );
}
