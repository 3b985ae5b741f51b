/** The reward catalogue: create, change, switch off and delete rewards. */
import { type Columns, type DraftFieldsProps, EditableList } from "./EditableList";
import { fmt } from "./state";
import { Checkbox, counted, fieldError, NumberField, Select, TextField } from "./ui";

type RewardType = "amount_off" | "percent_off" | "free_shipping" | "free_product" | "store_credit";

interface Reward {
  id: string;
  name: string;
  type: RewardType;
  cost: number;
  value: string | number | null;
  product: string | null;
  minOrder: string | null;
  active: boolean;
}

const TYPES = [
  ["amount_off", "Amount off"],
  ["percent_off", "Percent off"],
  ["free_shipping", "Free shipping"],
  ["free_product", "Free product"],
  ["store_credit", "Store credit"],
] as const;

interface Draft {
  name: string;
  type: RewardType;
  cost: number | null;
  amount: string;
  percent: number | null;
  product: string;
  minOrder: string;
  active: boolean;
}

const emptyDraft = (): Draft => ({
  name: "",
  type: "amount_off",
  cost: 500,
  amount: "5.00",
  percent: 10,
  product: "",
  minOrder: "",
  active: true,
});

function draftOf(reward: Reward): Draft {
  return {
    name: reward.name,
    type: reward.type,
    cost: reward.cost,
    amount: typeof reward.value === "string" ? reward.value : "5.00",
    percent: typeof reward.value === "number" ? reward.value : 10,
    product: reward.product ?? "",
    minOrder: reward.minOrder ?? "",
    active: reward.active,
  };
}

/** The request body: each type carries only the value it takes. */
function bodyOf(draft: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = { name: draft.name.trim(), type: draft.type, cost: draft.cost, active: draft.active };
  if (draft.type === "amount_off" || draft.type === "store_credit") body.value = draft.amount.trim();
  if (draft.type === "percent_off") body.value = draft.percent;
  if (draft.type === "free_product") body.product = draft.product.trim();
  if (draft.minOrder.trim() !== "") body.minOrder = draft.minOrder.trim();
  return body;
}

function describeValue(reward: Pick<Reward, "type" | "value" | "product">): string {
  const f = fmt.value;
  switch (reward.type) {
    case "amount_off":
      return `${f.decimal(String(reward.value ?? ""))} off`;
    case "store_credit":
      return `${f.decimal(String(reward.value ?? ""))} store credit`;
    case "percent_off":
      return `${reward.value}% off`;
    case "free_shipping":
      return "Free shipping";
    case "free_product":
      return `Free product ${reward.product ?? ""}`.trim();
  }
}

function RewardFields({ draft, set, error }: DraftFieldsProps<Draft>) {
  return (
    <>
      <TextField label="Reward name" required maxLength={120} value={draft.name} error={fieldError(error, "name")} onInput={(v) => set("name", v)} />
      <Select label="Type" value={draft.type} options={TYPES} onChange={(v) => set("type", v)} />
      <NumberField label="Cost in points" integer min={1} value={draft.cost} error={fieldError(error, "cost")} onValue={(v) => set("cost", v)} />
      {(draft.type === "amount_off" || draft.type === "store_credit") && (
        <TextField label="Amount" hint="A decimal amount, e.g. 5.00" value={draft.amount} error={fieldError(error, "value")} onInput={(v) => set("amount", v)} />
      )}
      {draft.type === "percent_off" && (
        <NumberField label="Percent off" integer min={1} value={draft.percent} error={fieldError(error, "value")} onValue={(v) => set("percent", v)} />
      )}
      {draft.type === "free_product" && (
        <TextField label="Product (SKU or id)" value={draft.product} error={fieldError(error, "product")} onInput={(v) => set("product", v)} />
      )}
      <TextField
        label="Minimum order (optional)"
        value={draft.minOrder}
        error={fieldError(error, "minOrder")}
        onInput={(v) => set("minOrder", v)}
      />
      <Checkbox label="Active (shoppers can redeem it)" checked={draft.active} onChange={(v) => set("active", v)} />
    </>
  );
}

const COLUMNS: Columns<Reward> = [
  ["Reward", describeValue],
  ["Cost", (reward) => counted(reward.cost, "point", "points")],
  ["Minimum order", (reward) => (reward.minOrder ? fmt.value.decimal(reward.minOrder) : "–")],
  ["Status", (reward) => (reward.active ? "Active" : "Off")],
];

export function RewardsPage() {
  return (
    <EditableList
      noun="reward"
      plural="rewards"
      path="/v1/rewards"
      empty="No rewards yet: create the first one below."
      deleteNote="Codes already issued stay valid."
      columns={COLUMNS}
      blank={emptyDraft}
      draftOf={draftOf}
      bodyOf={bodyOf}
      Fields={RewardFields}
    />
  );
}
