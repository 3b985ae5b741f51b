/**
 * The widget's state model: one StorefrontState from one request, the actions that change it,
 * and the DOM events the shop's own scripts listen to. laurel.js owns it; the panel chunk
 * receives it and subscribes.
 */
import type {
  ReferralClaim,
  ReferralLookup,
  Redemption,
  StorefrontChallenge,
  StorefrontState,
} from "../../worker/contract/types";
import { type ApiError, type Client, createClient, type Identity, newKey } from "../shared/api";

export interface CoreConfig {
  /** API base, the script's own origin unless data-api says otherwise. */
  api: string;
  shop: string;
  /** The page's language tag, from <html lang>. */
  lang: string;
  identity: Identity | null;
  fetch?: typeof fetch;
  /** Where laurel:* events go (the document). */
  events?: EventTarget;
}

export interface RedeemResult {
  redemption: Redemption;
  balance: number;
}

export interface Core {
  readonly config: CoreConfig;
  readonly client: Client;
  /** The last state read, null before the first load. */
  readonly state: StorefrontState | null;
  /** The last load's failure, null once a load succeeds. */
  readonly error: ApiError | null;
  /** When the state was last read (ms since epoch), 0 before. */
  readonly loadedAt: number;
  subscribe(listener: () => void): () => void;
  /** Reads the state again (one request). */
  refresh(): Promise<StorefrontState>;
  identify(identity: Identity | null): Promise<StorefrontState>;
  redeem(rewardId: string, key?: string): Promise<RedeemResult>;
  completeAction(challengeId: string): Promise<void>;
  answerNps(score: number, comment?: string): Promise<void>;
  lookupReferral(code: string): Promise<ReferralLookup>;
  claimReferral(code: string, email: string): Promise<ReferralClaim>;
  /** Challenges completed since the first state of this customer, each handed out once. */
  takeCelebrations(): StorefrontChallenge[];
}

/** A 409 (already reported, already answered) means the shopper's intent already holds. */
function unlessConflict(error: ApiError): void {
  if (error.status !== 409) throw error;
}

export function createCore(config: CoreConfig): Core {
  const client = createClient(config.api, config.shop, config.fetch);
  const listeners = new Set<() => void>();
  const events = config.events ?? document;
  let celebrations: StorefrontChallenge[] = [];
  let opened = false;

  const emit = (name: string, detail: unknown) => events.dispatchEvent(new CustomEvent(`laurel:${name}`, { detail }));
  const notify = () => {
    for (const listener of listeners) listener();
  };

  function setState(next: StorefrontState) {
    const previous = core.state;
    const sameCustomer = previous?.customer && next.customer && previous.customer.id === next.customer.id;
    if (sameCustomer) {
      const before = new Set(previous.challenges.filter((c) => c.completed).map((c) => c.id));
      celebrations.push(...next.challenges.filter((c) => c.completed && !before.has(c.id)));
    } else {
      celebrations = [];
    }
    core.state = next;
    core.error = null;
    core.loadedAt = Date.now();
    notify();
    const was = previous?.customer?.balance;
    const now = next.customer?.balance;
    if (previous && was !== now) emit("points-changed", { balance: now ?? null, previous: was ?? null });
  }

  async function refresh() {
    let first: Promise<{ state?: StorefrontState | undefined }> | null = null;
    if (!opened) {
      opened = true;
      first = client.open(config.identity, true);
      // Awaited below; a failure surfaces there.
      first.catch(() => {});
    }
    try {
      const session = first ? await first : null;
      const state = session?.state ?? (await client.call<StorefrontState>("/v1/storefront/state"));
      setState(state);
      return state;
    } catch (error) {
      core.error = error as ApiError;
      notify();
      throw error;
    }
  }

  const core: Core & { state: StorefrontState | null; error: ApiError | null; loadedAt: number } = {
    config,
    client,
    state: null,
    error: null,
    loadedAt: 0,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    identify(next) {
      opened = true;
      client.open(next).catch(() => {});
      return refresh();
    },
    async redeem(rewardId, key = newKey()) {
      const result = await client.call<RedeemResult>("/v1/storefront/redemptions", {
        method: "POST",
        body: { rewardId },
        key,
      });
      const state = core.state;
      if (state?.customer) {
        setState({ ...state, customer: { ...state.customer, balance: result.balance } });
      }
      emit("redeemed", result);
      // Affordability, activity and tier come from the server; the balance is already right.
      refresh().catch(() => {});
      return result;
    },
    async completeAction(challengeId) {
      // Reported before (another tab, a double click): the state shows it done either way.
      await client
        .call(`/v1/storefront/actions/${encodeURIComponent(challengeId)}`, { method: "POST", body: {} })
        .catch(unlessConflict);
      await refresh();
    },
    async answerNps(score, comment) {
      await client
        .call("/v1/storefront/nps", { method: "POST", body: comment ? { score, comment } : { score } })
        .catch(unlessConflict);
      await refresh();
    },
    lookupReferral(code) {
      return client.send(`/v1/storefront/referrals/${encodeURIComponent(code)}?shop=${encodeURIComponent(config.shop)}`);
    },
    claimReferral(code, email) {
      // A signed-in shopper's token lets the server catch self-referral by identity too.
      return client.send(
        `/v1/storefront/referrals/${encodeURIComponent(code)}/claim`,
        { method: "POST", body: { shop: config.shop, email } },
        client.token(),
      );
    },
    takeCelebrations() {
      const taken = celebrations;
      celebrations = [];
      return taken;
    },
  };
  return core;
}
