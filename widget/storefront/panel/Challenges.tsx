/** Challenges with progress bars and badges; social ones are self-reported with one button. */
import { useState } from "preact/hooks";
import type { StorefrontChallenge, StorefrontCustomer } from "../../../worker/contract/types";
import type { ApiError } from "../../shared/api";
import { useEnv } from "./env";
import { ErrorNote, ProgressBar } from "./ui";

/** The amount toward a goal, as the shopper reads it: money (minor units) for spend, a count otherwise. */
function useAmount() {
  const { fmt } = useEnv();
  return (challenge: StorefrontChallenge, value: number) =>
    challenge.kind === "spend" ? fmt.value.money(value) : fmt.value.number(value);
}

export function Challenges(props: { challenges: StorefrontChallenge[]; canAct: boolean }) {
  const { t } = useEnv();
  if (props.challenges.length === 0) return null;
  return (
    <section aria-labelledby="laurel-challenges">
      <h3 id="laurel-challenges">{t.value("challengesTitle")}</h3>
      <ul class="list">
        {props.challenges.map((challenge) => (
          <ChallengeItem key={challenge.id} challenge={challenge} canAct={props.canAct} />
        ))}
      </ul>
    </section>
  );
}

export function ChallengeItem(props: { challenge: StorefrontChallenge; canAct: boolean }) {
  const { t, fmt, core } = useEnv();
  const amount = useAmount();
  const { challenge } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const progressText = t.value("challengeProgress", {
    progress: amount(challenge, Math.min(challenge.progress, challenge.goal)),
    goal: amount(challenge, challenge.goal),
  });

  async function reportDone() {
    setBusy(true);
    setError(null);
    try {
      await core.completeAction(challenge.id);
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class={challenge.completed ? "item done" : "item"}>
      <div class="row">
        <p class="name">{challenge.name}</p>
        {challenge.rewardPoints > 0 && (
          <p class="cost">{t.value("challengeReward", { points: t.value("points", { n: challenge.rewardPoints }) })}</p>
        )}
      </div>
      <ProgressBar
        value={challenge.progress}
        max={challenge.goal}
        label={challenge.name}
        valueText={challenge.completed ? t.value("completed") : progressText}
      />
      <div class="row">
        <p class="small muted">{challenge.completed ? t.value("completed") : progressText}</p>
        {challenge.badge && <BadgePill name={challenge.badge} earned={challenge.completed} />}
      </div>
      {!challenge.completed && challenge.endsAt && (
        <p class="small muted">{t.value("endsOn", { date: fmt.value.date(challenge.endsAt) })}</p>
      )}
      {error && <ErrorNote error={error} />}
      {props.canAct && challenge.kind === "social" && !challenge.completed && (
        <div class="actions">
          <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={reportDone}>
            {t.value("markDone")}
          </button>
        </div>
      )}
    </li>
  );
}

export function BadgePill(props: { name: string; earned: boolean }) {
  return (
    <span class={props.earned ? "badge earned" : "badge"}>
      <svg viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 2a7 7 0 0 1 4 12.7V22l-4-2-4 2v-7.3A7 7 0 0 1 12 2zm0 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z" />
      </svg>
      {props.name}
    </span>
  );
}

export function Badges(props: { customer: StorefrontCustomer }) {
  const { t } = useEnv();
  if (props.customer.badges.length === 0) return null;
  return (
    <section aria-labelledby="laurel-badges">
      <h3 id="laurel-badges">{t.value("badgesTitle")}</h3>
      <ul class="badges">
        {props.customer.badges.map((badge) => (
          <li key={badge.challengeId}>
            <BadgePill name={badge.badge} earned />
          </li>
        ))}
      </ul>
    </section>
  );
}
