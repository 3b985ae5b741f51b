/** The reward catalogue: create, change, switch off and delete rewards. */
import { useState } from "preact/hooks";
import { api } from "./api";
import { fmt } from "./state";
import { Checkbox, ErrorNotice, fieldError, NumberField, Select, Status, TextField, useLoad } from "./ui";

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

function RewardForm(props: { initial: Draft; submitLabel: string; onSubmit: (body: Record<string, unknown>) => Promise<void>; onCancel?: () => void }) {
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
          await props.onSubmit(bodyOf(draft));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
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

export function RewardsPage() {
  const rewards = useLoad(() => api<{ rewards: Reward[] }>("/v1/rewards").then((r) => r.rewards), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [formKey, setFormKey] = useState(0);

  async function remove(reward: Reward) {
    if (!confirm(`Delete the reward “${reward.name}”? Codes already issued stay valid.`)) return;
    setError(null);
    try {
      await api(`/v1/rewards/${encodeURIComponent(reward.id)}`, { method: "DELETE" });
      setStatus(`Deleted “${reward.name}”.`);
      rewards.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <Status>{status}</Status>
      <ErrorNotice error={error ?? rewards.error} />
      <section aria-labelledby="rewards-list">
        <h2 id="rewards-list">All rewards</h2>
        {rewards.data && rewards.data.length === 0 && <p>No rewards yet: create the first one below.</p>}
        {rewards.data && rewards.data.length > 0 && (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Reward</th>
                <th scope="col">Cost</th>
                <th scope="col">Minimum order</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rewards.data.map((reward) =>
                editing === reward.id ? (
                  <tr key={reward.id}>
                    <td colSpan={6}>
                      <RewardForm
                        initial={draftOf(reward)}
                        submitLabel="Save reward"
                        onCancel={() => setEditing(null)}
                        onSubmit={async (body) => {
                          await api(`/v1/rewards/${encodeURIComponent(reward.id)}`, { method: "PATCH", body });
                          setEditing(null);
                          setStatus(`Saved “${String(body.name)}”.`);
                          rewards.reload();
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={reward.id}>
                    <th scope="row">{reward.name}</th>
                    <td>{describeValue(reward)}</td>
                    <td>{fmt.value.number(reward.cost)} points</td>
                    <td>{reward.minOrder ? fmt.value.decimal(reward.minOrder) : "–"}</td>
                    <td>{reward.active ? "Active" : "Off"}</td>
                    <td class="actions">
                      <button type="button" onClick={() => setEditing(reward.id)} aria-label={`Edit ${reward.name}`}>
                        Edit
                      </button>
                      <button type="button" class="danger" onClick={() => remove(reward)} aria-label={`Delete ${reward.name}`}>
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
      <section aria-labelledby="reward-new">
        <h2 id="reward-new">New reward</h2>
        <RewardForm
          key={formKey}
          initial={emptyDraft()}
          submitLabel="Create reward"
          onSubmit={async (body) => {
            await api("/v1/rewards", { method: "POST", body });
            setStatus(`Created “${String(body.name)}”.`);
            setFormKey((k) => k + 1);
            rewards.reload();
          }}
        />
      </section>
    </>
  );
}
