/** Small pieces the sections share: progress bars, copyable codes, actionable errors. */
import { useEffect, useState } from "preact/hooks";
import type { ApiError } from "../../shared/api";
import { useEnv } from "./env";
import { errorText } from "./text";

export function ProgressBar(props: { value: number; max: number; label: string; valueText?: string }) {
  const max = Math.max(1, props.max);
  const value = Math.min(max, Math.max(0, props.value));
  const percent = Math.round((value / max) * 100);
  return (
    <div
      class="bar"
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      aria-valuetext={props.valueText}
    >
      {/* Set through the CSSOM (style.setProperty), which a strict style-src CSP allows. */}
      <span style={{ width: `${percent}%` }} />
    </div>
  );
}

/** Clipboard API first; the selection fallback covers pages where it is blocked. */
export async function copyText(text: string, container: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = container.ownerDocument.createElement("textarea");
    area.value = text;
    area.className = "sr";
    area.setAttribute("readonly", "");
    area.setAttribute("aria-hidden", "true");
    container.append(area);
    area.select();
    let copied = false;
    try {
      copied = container.ownerDocument.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

export function CopyButton(props: { text: string; label: string; accessibleLabel?: string }) {
  const { t, container } = useEnv();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2500);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <>
      <button
        type="button"
        class="secondary"
        aria-label={props.accessibleLabel}
        onClick={async (event) => {
          const button = event.currentTarget as HTMLButtonElement;
          const ok = await copyText(props.text, container);
          button.focus();
          setCopied(ok);
        }}
      >
        {copied ? t.value("copied") : props.label}
      </button>
      <span class="sr" role="status">
        {copied ? t.value("copied") : ""}
      </span>
    </>
  );
}

export function CodeBox(props: { code: string; label: string; hint: string }) {
  const { t } = useEnv();
  return (
    <div class="codebox">
      <p class="muted">{props.label}</p>
      <div class="row">
        <output class="code">{props.code}</output>
        <CopyButton text={props.code} label={t.value("copy")} accessibleLabel={t.value("copyCode", { code: props.code })} />
      </div>
      <p class="muted small">{props.hint}</p>
    </div>
  );
}

/** The error, in words a shopper can act on; a 429 counts down its Retry-After. */
export function ErrorNote(props: { error: ApiError; context?: "claim" | "other"; onRetry?: () => void }) {
  const { t } = useEnv();
  const [wait, setWait] = useState(props.error.retryAfter);
  useEffect(() => {
    setWait(props.error.retryAfter);
    if (!props.error.retryAfter || props.error.retryAfter > 300) return;
    const timer = setInterval(() => setWait((left) => Math.max(0, left - 1)), 1000);
    return () => clearInterval(timer);
  }, [props.error]);
  const limited = props.error.code === "rate_limited" && props.error.retryAfter <= 300;
  const text = !limited
    ? errorText(t.value, props.error, props.context)
    : wait > 0
      ? t.value("errRateLimited", { n: wait })
      : t.value("readyAgain");
  return (
    <div class="error" role="alert">
      <span>{text}</span>
      {props.onRetry && (
        <button type="button" class="secondary" disabled={wait > 0} onClick={props.onRetry}>
          {t.value("retry")}
        </button>
      )}
    </div>
  );
}
