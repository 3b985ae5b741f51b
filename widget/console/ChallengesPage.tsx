/** Challenges: goals members reach for points and a badge, created, changed and deleted here. */
import { useState } from "preact/hooks";
import { type ChallengeKind, CHALLENGE_KINDS } from "../../worker/domain/challenges";
import { formatMoney, parseMoney } from "../../worker/domain/money";
import { api } from "./api";
import { fmt, shop } from "./state";
import { Checkbox, ErrorNotice, fieldError, NumberField, Select, Status, TextField, useLoad } from "./ui";

interface Challenge {
  id: string;
  name: string;
  kind: ChallengeKind;
  goal: number;
  rewardPoints: number;
  badge: string | null;
  productType: string | null;
  periodDays: number | null;
  startsAt: string | null;
  endsAt: string | null;
  active: boolean;
  completions: number;
}

const KIND_LABELS: Record<ChallengeKind, string> = {
  order_count: "Place a number of orders",
  spend: "Spend an amount",
  product_type: "Buy items of a product type",
  streak: "Order in consecutive periods",
  referrals: "Refer friends",
  review: "Write reviews",
  social: "Follow or share (self-reported)",
  nps: "Answer the NPS question",
};

const GOAL_LABELS: Record<ChallengeKind, string> = {
  order_count: "Orders",
  spend: "Amount to spend",
  product_type: "Items",
  streak: "Periods in a row",
  referrals: "Completed referrals",
  review: "Reviews",
  social: "Actions",
  nps: "Answers",
};

interface Draft {
  name: string;
  kind: ChallengeKind;
  goal: number | null;
  /** For spend: the goal as a decimal amount. */
  spend: string;
  rewardPoints: number | null;
  badge: string;
  productType: string;
  periodDays: number | null;
  startsAt: string;
  endsAt: string;
  active: boolean;
}

const currency = () => shop.value?.currency ?? "USD";
const toLocalInput = (iso: string | null) => {
  if (!iso) return "";
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : null);

const emptyDraft = (): Draft => ({
  name: "",
  kind: "order_count",
  goal: 3,
  spend: "100.00",
  rewardPoints: 100,
  badge: "",
  productType: "",
  periodDays: 30,
  startsAt: "",
  endsAt: "",
  active: true,
});

function draftOf(c: Challenge): Draft {
  return {
    name: c.name,
    kind: c.kind,
    goal: c.goal,
    spend: c.kind === "spend" ? formatMoney(c.goal, currency()) : "100.00",
    rewardPoints: c.rewardPoints,
    badge: c.badge ?? "",
    productType: c.productType ?? "",
    periodDays: c.periodDays ?? 30,
    startsAt: toLocalInput(c.startsAt),
    endsAt: toLocalInput(c.endsAt),
    active: c.active,
  };
}

function bodyOf(draft: Draft, withKind: boolean): Record<string, unknown> {
  const goal = draft.kind === "spend" ? (parseMoney(draft.spend.trim(), currency()) ?? -1) : draft.goal;
  return {
    name: draft.name.trim(),
    ...(withKind ? { kind: draft.kind } : {}),
    goal,
    rewardPoints: draft.rewardPoints,
    badge: draft.badge.trim() === "" ? null : draft.badge.trim(),
    productType: draft.kind === "product_type" ? draft.productType.trim() : null,
    periodDays: draft.kind === "streak" ? draft.periodDays : null,
    startsAt: fromLocalInput(draft.startsAt),
    endsAt: fromLocalInput(draft.endsAt),
    active: draft.active,
  };
}

function ChallengeForm(props: {
  initial: Draft;
  isNew: boolean;
  submitLabel: string;
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  onCancel?: () => void;
}) {
  const [draft, setDraft] = useState(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  return (
    <form
      class="card"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await props.onSubmit(bodyOf(draft, props.isNew));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <TextField label="Challenge name" maxLength={120} value={draft.name} error={fieldError(error, "name")} onInput={(v) => set("name", v)} />
      {props.isNew ? (
        <Select
          label="Kind"
          value={draft.kind}
          options={CHALLENGE_KINDS.map((k) => [k, KIND_LABELS[k]] as const)}
          onChange={(v) => set("kind", v)}
        />
      ) : (
        <p>
          Kind: <strong>{KIND_LABELS[draft.kind]}</strong> (a challenge keeps its kind)
        </p>
      )}
      {draft.kind === "spend" ? (
        <TextField
          label={`${GOAL_LABELS.spend} (${currency()})`}
          value={draft.spend}
          error={fieldError(error, "goal")}
          onInput={(v) => set("spend", v)}
        />
      ) : (
        <NumberField label={GOAL_LABELS[draft.kind]} integer min={1} value={draft.goal} error={fieldError(error, "goal")} onValue={(v) => set("goal", v)} />
      )}
      {draft.kind === "product_type" && (
        <TextField label="Product type" value={draft.productType} error={fieldError(error, "productType")} onInput={(v) => set("productType", v)} />
      )}
      {draft.kind === "streak" && (
        <NumberField
          label="Period length (days)"
          integer
          min={1}
          value={draft.periodDays}
          error={fieldError(error, "periodDays")}
          onValue={(v) => set("periodDays", v)}
        />
      )}
      <NumberField
        label="Reward points"
        integer
        min={0}
        value={draft.rewardPoints}
        error={fieldError(error, "rewardPoints")}
        onValue={(v) => set("rewardPoints", v)}
      />
      <TextField label="Badge (optional)" hint="A short label or an emoji." maxLength={60} value={draft.badge} onInput={(v) => set("badge", v)} />
      <div class="inline">
        <TextField label="Starts (optional)" type="datetime-local" value={draft.startsAt} onInput={(v) => set("startsAt", v)} />
        <TextField label="Ends (optional)" type="datetime-local" value={draft.endsAt} error={fieldError(error, "endsAt")} onInput={(v) => set("endsAt", v)} />
      </div>
      <Checkbox label="Active" checked={draft.active} onChange={(v) => set("active", v)} />
      <ErrorNotice error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function goalText(c: Challenge): string {
  const f = fmt.value;
  if (c.kind === "spend") return `Spend ${f.money(c.goal)}`;
  const what = GOAL_LABELS[c.kind].toLowerCase();
  return `${f.number(c.goal)} ${what}${c.kind === "streak" ? ` of ${c.periodDays} days` : ""}${c.kind === "product_type" ? ` (${c.productType})` : ""}`;
}

export function ChallengesPage() {
  const challenges = useLoad(() => api<{ challenges: Challenge[] }>("/v1/challenges").then((r) => r.challenges), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [formKey, setFormKey] = useState(0);

  async function remove(c: Challenge) {
    if (!confirm(`Delete the challenge “${c.name}”? Badges already earned stay.`)) return;
    setError(null);
    try {
      await api(`/v1/challenges/${encodeURIComponent(c.id)}`, { method: "DELETE" });
      setStatus(`Deleted “${c.name}”.`);
      challenges.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <Status>{status}</Status>
      <ErrorNotice error={error ?? challenges.error} />
      <section aria-labelledby="challenges-list">
        <h2 id="challenges-list">All challenges</h2>
        {challenges.data && challenges.data.length === 0 && <p>No challenges yet.</p>}
        {challenges.data && challenges.data.length > 0 && (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Goal</th>
                <th scope="col">Reward</th>
                <th scope="col">Badge</th>
                <th scope="col">Completed by</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {challenges.data.map((c) =>
                editing === c.id ? (
                  <tr key={c.id}>
                    <td colSpan={7}>
                      <ChallengeForm
                        initial={draftOf(c)}
                        isNew={false}
                        submitLabel="Save challenge"
                        onCancel={() => setEditing(null)}
                        onSubmit={async (body) => {
                          await api(`/v1/challenges/${encodeURIComponent(c.id)}`, { method: "PATCH", body });
                          setEditing(null);
                          setStatus(`Saved “${String(body.name)}”.`);
                          challenges.reload();
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={c.id}>
                    <th scope="row">{c.name}</th>
                    <td>{goalText(c)}</td>
                    <td>{fmt.value.number(c.rewardPoints)} points</td>
                    <td>{c.badge ?? "–"}</td>
                    <td>
                      {fmt.value.number(c.completions)} {c.completions === 1 ? "member" : "members"}
                    </td>
                    <td>{c.active ? "Active" : "Off"}</td>
                    <td class="actions">
                      <button type="button" onClick={() => setEditing(c.id)} aria-label={`Edit ${c.name}`}>
                        Edit
                      </button>
                      <button type="button" class="danger" onClick={() => remove(c)} aria-label={`Delete ${c.name}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="challenge-new">
        <h2 id="challenge-new">New challenge</h2>
        <ChallengeForm
          key={formKey}
          initial={emptyDraft()}
          isNew
          submitLabel="Create challenge"
          onSubmit={async (body) => {
            await api("/v1/challenges", { method: "POST", body });
            setStatus(`Created “${String(body.name)}”.`);
            setFormKey((k) => k + 1);
            challenges.reload();
          }}
        />
      </section>
    </>
  );
}
