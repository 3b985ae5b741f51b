/** The NPS question (0-10), then a follow-up "why", then thanks. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiError } from "../../shared/api";
import { useEnv } from "./env";
import { ErrorNote } from "./ui";

type Step = { name: "score" } | { name: "why"; score: number } | { name: "done" };

export function Nps() {
  const { t, core, state } = useEnv();
  const [step, setStep] = useState<Step>({ name: "score" });
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const why = useRef<HTMLTextAreaElement>(null);
  const thanks = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (step.name === "why") why.current?.focus();
    if (step.name === "done") thanks.current?.focus();
  }, [step.name]);
  const shop = state.value?.program.shopName ?? "";

  async function send(score: number, text: string) {
    setBusy(true);
    setError(null);
    try {
      await core.answerNps(score, text.trim() || undefined);
      setStep({ name: "done" });
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card nps" aria-labelledby="laurel-nps">
      <h3 id="laurel-nps">{t.value("npsTitle")}</h3>
      {step.name === "score" && (
        <fieldset>
          <legend>{t.value("npsQuestion", { shop })}</legend>
          <div class="scale">
            {Array.from({ length: 11 }, (_, score) => (
              <button
                key={score}
                type="button"
                class="score"
                aria-label={t.value("npsScore", { n: score })}
                onClick={() => setStep({ name: "why", score })}
              >
                {score}
              </button>
            ))}
          </div>
          <div class="row small muted" aria-hidden="true">
            <span>{t.value("npsLow")}</span>
            <span>{t.value("npsHigh")}</span>
          </div>
        </fieldset>
      )}
      {step.name === "why" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            send(step.score, comment);
          }}
        >
          <label for="laurel-nps-why">{t.value("npsWhy")}</label>
          <textarea
            id="laurel-nps-why"
            ref={why}
            rows={3}
            maxLength={1000}
            value={comment}
            onInput={(event) => setComment((event.currentTarget as HTMLTextAreaElement).value)}
          />
          {error && <ErrorNote error={error} />}
          <div class="actions">
            <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
              {t.value("send")}
            </button>
            <button type="button" class="secondary" disabled={busy} onClick={() => send(step.score, "")}>
              {t.value("skip")}
            </button>
          </div>
        </form>
      )}
      {step.name === "done" && (
        <p ref={thanks} tabIndex={-1} role="status">
          {t.value("npsThanks")}
        </p>
      )}
    </section>
  );
}
