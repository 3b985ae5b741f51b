/** Challenges: goals members reach for points and a badge, created, changed and deleted here. */
import { type ChallengeKind, type ChallengeRule, CHALLENGE_KINDS } from "../../worker/domain/challenges";
import { type Columns, type DraftFieldsProps, EditableList } from "./EditableList";
import { fmt, shop } from "./state";
import { Checkbox, counted, fieldError, fromLocalInput, MoneyField, NumberField, Select, TextField, toLocalInput } from "./ui";

interface Challenge extends ChallengeRule {
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

/** What one of a goal counts, and several ("1 order", "3 orders"). */
const GOAL_UNITS: Record<Exclude<ChallengeKind, "spend">, readonly [string, string]> = {
  order_count: ["order", "orders"],
  product_type: ["item", "items"],
  streak: ["period in a row", "periods in a row"],
  referrals: ["completed referral", "completed referrals"],
  review: ["review", "reviews"],
  social: ["action", "actions"],
  nps: ["answer", "answers"],
};

interface Draft {
  name: string;
  kind: ChallengeKind;
  goal: number | null;
  /** For spend: the goal in minor units of the shop's currency. */
  spend: number | null;
  rewardPoints: number | null;
  badge: string;
  productType: string;
  periodDays: number | null;
  startsAt: string;
  endsAt: string;
  active: boolean;
}

const currency = () => shop.value?.currency ?? "USD";

const emptyDraft = (): Draft => ({
  name: "",
  kind: "order_count",
  goal: 3,
  spend: 10_000,
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
    spend: c.kind === "spend" ? c.goal : 10_000,
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
  const goal = draft.kind === "spend" ? draft.spend : draft.goal;
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

function ChallengeFields({ draft, set, error, isNew }: DraftFieldsProps<Draft>) {
  return (
    <>
      <TextField label="Challenge name" maxLength={120} value={draft.name} error={fieldError(error, "name")} onInput={(v) => set("name", v)} />
      {isNew ? (
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
        <MoneyField
          label={`${GOAL_LABELS.spend} (${currency()})`}
          currency={currency()}
          min={1}
          value={draft.spend}
          error={fieldError(error, "goal")}
          onValue={(v) => set("spend", v)}
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
    </>
  );
}

function goalText(c: Challenge): string {
  const f = fmt.value;
  if (c.kind === "spend") return `Spend ${f.money(c.goal)}`;
  const [one, many] = GOAL_UNITS[c.kind];
  const what = c.goal === 1 ? one : many;
  return `${f.number(c.goal)} ${what}${c.kind === "streak" ? ` of ${c.periodDays} days` : ""}${c.kind === "product_type" ? ` (${c.productType})` : ""}`;
}

const COLUMNS: Columns<Challenge> = [
  ["Goal", goalText],
  ["Reward", (c) => counted(c.rewardPoints, "point", "points")],
  ["Badge", (c) => c.badge ?? "–"],
  ["Completed by", (c) => counted(c.completions, "member", "members")],
  ["Status", (c) => (c.active ? "Active" : "Off")],
];

export function ChallengesPage() {
  return (
    <EditableList
      noun="challenge"
      plural="challenges"
      path="/v1/challenges"
      empty="No challenges yet."
      deleteNote="Badges already earned stay."
      columns={COLUMNS}
      blank={emptyDraft}
      draftOf={draftOf}
      bodyOf={bodyOf}
      Fields={ChallengeFields}
    />
  );
}
