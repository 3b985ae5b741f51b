/** The dialog: a native modal <dialog> (top layer, inert page) with our own Tab wrap and Esc. */
import type { Signal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { StorefrontChallenge } from "../../../worker/contract/types";
import type { PanelView } from "../boot";
import { Activity } from "./Activity";
import { Celebration } from "./Celebration";
import { Badges, Challenges } from "./Challenges";
import { Env, type PanelEnv, useEnv } from "./env";
import { JoinPrompt, WaysToEarn } from "./Guest";
import { Nps } from "./Nps";
import { Referee } from "./Referee";
import { Referral } from "./Referral";
import { Rewards } from "./Rewards";
import { Summary } from "./Summary";
import { ErrorNote } from "./ui";

const FOCUSABLE =
  'a[href],button:not([disabled]),input:not([disabled]),textarea:not([disabled]),select:not([disabled]),[tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab inside the dialog, wrapping at either end. */
export function trapTab(event: KeyboardEvent, dialog: HTMLElement): void {
  const items = Array.from(dialog.querySelectorAll<HTMLElement>(FOCUSABLE));
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return;
  const active = (dialog.getRootNode() as Document | ShadowRoot).activeElement;
  const inside = active instanceof Node && dialog.contains(active);
  if (event.shiftKey && (active === first || !inside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
}

export interface AppProps {
  env: PanelEnv;
  open: Signal<boolean>;
  view: Signal<PanelView>;
  onClose: () => void;
}

export function App(props: AppProps) {
  const { env, onClose } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const isOpen = props.open.value;
  const t = env.t.value;
  // Layout effect: the dialog opens (and takes focus) in the same frame as the click.
  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (isOpen && !element.open) {
      if (typeof element.showModal === "function") element.showModal();
      else element.setAttribute("open", "");
      element.querySelector<HTMLElement>(".close")?.focus();
    } else if (!isOpen && element.open) {
      element.close();
    }
  }, [isOpen]);

  return (
    <Env.Provider value={env}>
      <dialog
        ref={dialog}
        class="panel"
        aria-labelledby="laurel-title"
        onCancel={(event) => {
          event.preventDefault();
          onClose();
        }}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            onClose();
          } else if (event.key === "Tab" && dialog.current) {
            trapTab(event, dialog.current);
          }
        }}
        onClick={(event) => {
          // A click on the backdrop lands on the dialog element itself.
          if (event.target === event.currentTarget) onClose();
        }}
      >
        <div class="frame">
          <header>
            <h2 id="laurel-title">{env.state.value?.program.shopName || t("launcher")}</h2>
            <button type="button" class="close" aria-label={t("close")} onClick={onClose}>
              <svg viewBox="0 0 24 24" aria-hidden="true">
                <path d="M6 6l12 12M18 6L6 18" />
              </svg>
            </button>
          </header>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard, even when it holds no control (a guest's view) */}
          <section class="body" tabIndex={0} aria-labelledby="laurel-title">
            {isOpen && <Body view={props.view.value} />}
          </section>
        </div>
      </dialog>
    </Env.Provider>
  );
}

function Body(props: { view: PanelView }) {
  const { state, error, core, t } = useEnv();
  const current = state.value;
  const [celebrations, setCelebrations] = useState<StorefrontChallenge[]>([]);
  // Completed since the last look: celebrated while the panel is open, or on the next open.
  useEffect(() => {
    const fresh = core.takeCelebrations();
    if (fresh.length > 0) setCelebrations((queue) => [...queue, ...fresh]);
  }, [current]);
  const retry = () => {
    core.refresh().catch(() => {});
  };

  if (!current) {
    return error.value ? (
      <ErrorNote error={error.value} onRetry={retry} />
    ) : (
      <p class="muted" role="status">
        {t.value("loading")}
      </p>
    );
  }
  const celebration = celebrations[0];
  return (
    <>
      {error.value && <ErrorNote error={error.value} onRetry={retry} />}
      {celebration && (
        <Celebration
          key={celebration.id}
          challenge={celebration}
          onDone={() => setCelebrations((queue) => queue.slice(1))}
        />
      )}
      {props.view.name === "referral" ? (
        <Referee code={props.view.code} />
      ) : current.customer ? (
        <Member />
      ) : (
        <Guest />
      )}
    </>
  );
}

function Member() {
  const { state } = useEnv();
  const current = state.value!;
  const customer = current.customer!;
  // Once asked in this opening, the NPS card stays for its follow-up and thanks.
  const asked = useRef(false);
  if (customer.npsDue) asked.current = true;
  return (
    <>
      <Summary customer={customer} />
      <Rewards rewards={current.rewards} canRedeem />
      <Challenges challenges={current.challenges} canAct />
      <Badges customer={customer} />
      <Referral customer={customer} />
      {asked.current && <Nps />}
      <Activity entries={current.activity} />
      <WaysToEarn program={current.program} member />
    </>
  );
}

function Guest() {
  const { state } = useEnv();
  const current = state.value!;
  return (
    <>
      <JoinPrompt program={current.program} />
      <WaysToEarn program={current.program} member={false} />
      <Rewards rewards={current.rewards} canRedeem={false} />
      <Challenges challenges={current.challenges} canAct={false} />
    </>
  );
}
