/**
 * A challenge just completed: say so (role="status"), show the badge, and throw a little
 * confetti unless the shopper asked for reduced motion.
 */
import { useEffect, useRef } from "preact/hooks";
import type { StorefrontChallenge } from "../../../worker/contract/types";
import { BadgePill } from "./Challenges";
import { prefersReducedMotion, useEnv } from "./env";

const COLOURS = ["#f59e0b", "#10b981", "#3b82f6", "#ef4444", "#8b5cf6", "#ec4899"];

export function Celebration(props: { challenge: StorefrontChallenge; onDone: () => void }) {
  const { t } = useEnv();
  const { challenge } = props;
  const button = useRef<HTMLButtonElement>(null);
  const still = prefersReducedMotion();
  useEffect(() => button.current?.focus(), [challenge.id]);
  return (
    <div class={still ? "celebration still" : "celebration"} role="status" aria-live="polite">
      {!still && (
        <div class="confetti" aria-hidden="true">
          {Array.from({ length: 18 }, (_, i) => (
            <span
              key={i}
              style={{
                "--x": `${(i * 37) % 100}%`,
                "--delay": `${(i % 6) * 0.08}s`,
                "--colour": COLOURS[i % COLOURS.length],
                "--turn": `${(i % 2 ? 1 : -1) * (180 + i * 20)}deg`,
              }}
            />
          ))}
        </div>
      )}
      <p class="headline">{t.value("celebrate", { name: challenge.name })}</p>
      {challenge.badge && (
        <>
          <BadgePill name={challenge.badge} earned />
          <p>{t.value("celebrateBadge", { badge: challenge.badge })}</p>
        </>
      )}
      {challenge.rewardPoints > 0 && (
        <p>{t.value("celebratePoints", { points: t.value("points", { n: challenge.rewardPoints }) })}</p>
      )}
      <button type="button" class="primary" ref={button} onClick={props.onDone}>
        {t.value("dismiss")}
      </button>
    </div>
  );
}
