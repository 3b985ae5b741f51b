/**
 * Program settings: earning, ways to earn, referral offer, expiry, tiers, point value, branding and
 * texts, edited as a draft beside a live preview and the simulator; saved whole with PUT /v1/program.
 */
import { signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Program, TierRule } from "../../worker/contract/program";
import { LANGUAGES } from "../shared/i18n";
import { api } from "./api";
import { ensureCatalog, messagesOf } from "./catalog";
import { Preview } from "./Preview";
import { Simulator } from "./Simulator";
import { shop } from "./state";
import { Checkbox, ErrorNotice, fieldError, fromLocalInput, NumberField, Select, Status, TextArea, TextField, toLocalInput, useAction } from "./ui";

/** The draft lives outside the page so that a quick visit elsewhere does not lose it. */
const draft = signal<Program | null>(null);
const saved = signal<string | null>(null);
/** Whose program the draft is: another shop signing in starts from their own. */
const draftOf = signal<string | null>(null);

function update(change: (program: Program) => void) {
  if (!draft.value) return;
  const next = structuredClone(draft.value);
  change(next);
  draft.value = next;
}

const ROUNDING = [
  ["floor", "Round down"],
  ["round", "Round to nearest"],
  ["ceil", "Round up"],
] as const;
const OFFER_TYPES = [
  ["amount_off", "Amount off"],
  ["percent_off", "Percent off"],
  ["free_shipping", "Free shipping"],
] as const;
const BASES = [
  ["lifetime_points", "Lifetime points"],
  ["spend", "Spend in a rolling window"],
] as const;
const CORNERS = [
  ["bottom-right", "Bottom right"],
  ["bottom-left", "Bottom left"],
] as const;

/** The record with its i-th key renamed, in place, so the row being typed in keeps its position. */
function renameKey<V>(record: Record<string, V>, i: number, name: string): Record<string, V> {
  const entries = Object.entries(record);
  entries[i] = [name, entries[i]![1]];
  return Object.fromEntries(entries);
}

/** `base`, else `base-2`, `base-3`… : the first that is not a key of `taken` yet. */
function unusedName(base: string, taken: object): string {
  let name = base;
  for (let n = 2; name in taken; n++) name = `${base}-${n}`;
  return name;
}

/** An optional number: an emptied field removes it. */
function setOptional<K extends string>(target: { [P in K]?: number }, key: K, value: number | null) {
  if (value === null) delete target[key];
  else target[key] = value;
}

/**
 * A fieldset of rows the merchant adds and removes (multipliers, boosts, events, tiers, texts):
 * each row's fields then its Remove button, `none` while there is no row, and an Add button.
 */
function Rows<T>(props: {
  legend: string;
  rows: readonly T[];
  /** Before the rows. */
  intro?: ComponentChildren;
  none?: string;
  rowClass?: string;
  keyOf?: (row: T, i: number) => string | number;
  fields: (row: T, i: number) => ComponentChildren;
  removeLabel: (row: T) => string;
  onRemove: (program: Program, row: T, i: number) => void;
  addLabel?: string;
  onAdd?: ((program: Program) => void) | undefined;
  /** After the rows. */
  children?: ComponentChildren;
}) {
  const { onAdd } = props;
  return (
    <fieldset class="rows">
      <legend>{props.legend}</legend>
      {props.intro}
      {props.none && props.rows.length === 0 && <p class="hint">{props.none}</p>}
      {props.rows.map((row, i) => (
        <div class={props.rowClass ?? "row"} key={props.keyOf?.(row, i) ?? i}>
          {props.fields(row, i)}
          <button type="button" class="link" onClick={() => update((p) => props.onRemove(p, row, i))}>
            {props.removeLabel(row)}
          </button>
        </div>
      ))}
      {onAdd && (
        <button type="button" onClick={() => update(onAdd)}>
          {props.addLabel}
        </button>
      )}
      {props.children}
    </fieldset>
  );
}

function EarningFields(props: { program: Program; error: unknown }) {
  const { earning } = props.program;
  const multipliers = Object.entries(earning.productTypeMultipliers);
  return (
    <fieldset>
      <legend>Earning on orders</legend>
      <NumberField
        label="Points per currency unit"
        hint="Of the eligible amount: subtotal minus discounts."
        value={earning.pointsPerUnit}
        min={0}
        error={fieldError(props.error, "program.earning.pointsPerUnit")}
        onValue={(v) => update((p) => (p.earning.pointsPerUnit = v ?? 0))}
      />
      <Select label="Rounding" value={earning.rounding} options={ROUNDING} onChange={(v) => update((p) => (p.earning.rounding = v))} />
      <TextField
        label="Minimum order"
        hint={`Orders below this amount (in ${shop.value?.currency ?? "your currency"}) earn nothing. 0 for none.`}
        value={earning.minOrder}
        error={fieldError(props.error, "program.earning.minOrder")}
        onInput={(v) => update((p) => (p.earning.minOrder = v))}
      />
      <Checkbox label="Include shipping" checked={earning.includeShipping} onChange={(v) => update((p) => (p.earning.includeShipping = v))} />
      <Checkbox label="Include tax" checked={earning.includeTax} onChange={(v) => update((p) => (p.earning.includeTax = v))} />
      <Rows
        legend="Product-type multipliers"
        rows={multipliers}
        none="None: every product earns at the base rate."
        fields={([type, multiplier], i) => (
          <>
            <TextField
              label="Product type"
              value={type}
              onInput={(v) => update((p) => (p.earning.productTypeMultipliers = renameKey(p.earning.productTypeMultipliers, i, v)))}
            />
            <NumberField
              label="Multiplier"
              value={multiplier}
              min={0}
              onValue={(v) => update((p) => (p.earning.productTypeMultipliers[type] = v ?? 1))}
            />
          </>
        )}
        removeLabel={([type]) => `Remove ${type || "multiplier"}`}
        onRemove={(p, [type]) => delete p.earning.productTypeMultipliers[type]}
        addLabel="Add a multiplier"
        onAdd={(p) => (p.earning.productTypeMultipliers[unusedName("type", p.earning.productTypeMultipliers)] = 2)}
      />
      <Rows
        legend="Boosts (time-boxed multipliers)"
        rows={earning.boosts ?? []}
        none="No boost planned."
        fields={(boost, i) => (
          <>
            <TextField label="Name" value={boost.name} maxLength={60} onInput={(v) => update((p) => (p.earning.boosts[i]!.name = v))} />
            <NumberField label="Multiplier" value={boost.multiplier} min={0} onValue={(v) => update((p) => (p.earning.boosts[i]!.multiplier = v ?? 1))} />
            <TextField
              label="Starts"
              type="datetime-local"
              value={toLocalInput(boost.startsAt)}
              onInput={(v) => update((p) => (p.earning.boosts[i]!.startsAt = fromLocalInput(v) ?? ""))}
            />
            <TextField
              label="Ends"
              type="datetime-local"
              value={toLocalInput(boost.endsAt)}
              onInput={(v) => update((p) => (p.earning.boosts[i]!.endsAt = fromLocalInput(v) ?? ""))}
            />
          </>
        )}
        removeLabel={(boost) => `Remove boost ${boost.name}`}
        onRemove={(p, _, i) => p.earning.boosts.splice(i, 1)}
        addLabel="Add a boost"
        onAdd={(p) => {
          const start = new Date();
          p.earning.boosts = [
            ...(p.earning.boosts ?? []),
            {
              name: "Double points",
              multiplier: 2,
              startsAt: start.toISOString(),
              endsAt: new Date(start.getTime() + 7 * 86_400_000).toISOString(),
            },
          ];
        }}
      />
    </fieldset>
  );
}

function WaysFields(props: { program: Program }) {
  const { waysToEarn } = props.program;
  const custom = Object.entries(waysToEarn.custom ?? {});
  const points = (label: string, key: "signup" | "birthday" | "review" | "nps" | "social", hint?: string) => (
    <NumberField
      label={label}
      hint={hint}
      integer
      min={0}
      value={waysToEarn[key] ?? 0}
      onValue={(v) => update((p) => (p.waysToEarn[key] = v ?? 0))}
    />
  );
  return (
    <fieldset>
      <legend>Other ways to earn (points each, 0 = off)</legend>
      {points("Signing up", "signup")}
      {points("Birthday", "birthday", "Once a year.")}
      {points("Product review", "review")}
      {points("Answering the NPS question", "nps")}
      {points("Social follow or share", "social", "Self-reported, once each.")}
      <NumberField
        label="Ask the NPS question every (days)"
        integer
        min={1}
        value={waysToEarn.npsPeriodDays ?? 90}
        onValue={(v) => update((p) => (p.waysToEarn.npsPeriodDays = v ?? 90))}
      />
      <Rows
        legend="Custom events"
        rows={custom}
        none="Send a `custom` event with a name to award points for anything else."
        fields={([name, way], i) => (
          <>
            <TextField
              label="Event name"
              value={name}
              maxLength={60}
              onInput={(v) => update((p) => (p.waysToEarn.custom = renameKey(p.waysToEarn.custom, i, v)))}
            />
            <NumberField label="Points" integer min={0} value={way.points} onValue={(v) => update((p) => (p.waysToEarn.custom[name]!.points = v ?? 0))} />
            <NumberField
              label="At most (times per period)"
              integer
              min={1}
              optional
              value={way.limit ?? null}
              onValue={(v) => update((p) => setOptional(p.waysToEarn.custom[name]!, "limit", v))}
            />
            <NumberField
              label="Period (days)"
              integer
              min={1}
              optional
              value={way.periodDays ?? null}
              onValue={(v) => update((p) => setOptional(p.waysToEarn.custom[name]!, "periodDays", v))}
            />
          </>
        )}
        removeLabel={([name]) => `Remove ${name || "event"}`}
        onRemove={(p, [name]) => delete p.waysToEarn.custom[name]}
        addLabel="Add a custom event"
        onAdd={(p) => {
          const custom = p.waysToEarn.custom ?? {};
          p.waysToEarn.custom = { ...custom, [unusedName("event", custom)]: { points: 10 } };
        }}
      />
    </fieldset>
  );
}

function ReferralFields(props: { program: Program; error: unknown }) {
  const { referral, expiry } = props.program;
  const offer = referral.refereeOffer;
  return (
    <>
      <fieldset>
        <legend>Referrals</legend>
        <NumberField
          label="Points for the referrer"
          hint="Paid when the friend's first order arrives."
          integer
          min={0}
          value={referral.referrerPoints}
          onValue={(v) => update((p) => (p.referral.referrerPoints = v ?? 0))}
        />
        <Select
          label="The friend's offer"
          value={offer.type}
          options={OFFER_TYPES}
          onChange={(type) =>
            update((p) => {
              p.referral.refereeOffer = type === "free_shipping" ? { type } : { type, value: type === "percent_off" ? 10 : "5.00" };
            })
          }
        />
        {offer.type === "amount_off" && (
          <TextField
            label="Amount off"
            value={String(offer.value ?? "")}
            error={fieldError(props.error, "program.referral.refereeOffer.value")}
            onInput={(v) => update((p) => (p.referral.refereeOffer.value = v))}
          />
        )}
        {offer.type === "percent_off" && (
          <NumberField
            label="Percent off"
            integer
            min={1}
            error={fieldError(props.error, "program.referral.refereeOffer.value")}
            value={typeof offer.value === "number" ? offer.value : Number(offer.value ?? 0)}
            onValue={(v) => update((p) => (p.referral.refereeOffer.value = v ?? 0))}
          />
        )}
      </fieldset>
      <fieldset>
        <legend>Expiry and value</legend>
        <NumberField
          label="Points expire after (days)"
          hint="Leave empty for points that never expire."
          integer
          min={1}
          optional
          value={expiry.days}
          onValue={(v) => update((p) => (p.expiry.days = v))}
        />
        <TextField
          label="Value of one point"
          hint={`In ${shop.value?.currency ?? "your currency"}, for the liability figures, e.g. 0.01.`}
          value={props.program.pointValue}
          error={fieldError(props.error, "program.pointValue")}
          onInput={(v) => update((p) => (p.pointValue = v))}
        />
      </fieldset>
    </>
  );
}

function TierFields(props: { program: Program }) {
  const { tiers } = props.program;
  const set = <K extends keyof TierRule>(i: number, key: K, value: TierRule[K]) => update((p) => (p.tiers[i]![key] = value));
  return (
    <Rows
      legend="Tiers (lowest first)"
      rows={tiers}
      none="No tiers."
      rowClass="row tier"
      fields={(tier, i) => (
        <>
          <TextField label="Tier name" value={tier.name} maxLength={60} onInput={(v) => set(i, "name", v)} />
          <Select label="Reached by" value={tier.basis} options={BASES} onChange={(v) => set(i, "basis", v)} />
          <NumberField
            label={tier.basis === "spend" ? "Spend (whole currency units)" : "Lifetime points"}
            integer
            min={0}
            value={tier.threshold}
            onValue={(v) => set(i, "threshold", v ?? 0)}
          />
          {tier.basis === "spend" && (
            <NumberField
              label="Window (days)"
              integer
              min={1}
              optional
              value={tier.windowDays ?? null}
              onValue={(v) => update((p) => setOptional(p.tiers[i]!, "windowDays", v))}
            />
          )}
          <NumberField label="Earning multiplier" min={0} value={tier.multiplier} onValue={(v) => set(i, "multiplier", v ?? 1)} />
          <TextArea label="Perks" value={tier.perks} maxLength={500} onInput={(v) => set(i, "perks", v)} />
        </>
      )}
      removeLabel={(tier) => `Remove tier ${tier.name}`}
      onRemove={(p, _, i) => p.tiers.splice(i, 1)}
      addLabel="Add a tier"
      onAdd={
        tiers.length < 10
          ? (p) =>
              p.tiers.push({
                name: `Tier ${p.tiers.length + 1}`,
                basis: "lifetime_points",
                threshold: (p.tiers[p.tiers.length - 1]?.threshold ?? 0) + 500,
                multiplier: 1,
                perks: "",
              })
          : undefined
      }
    />
  );
}

function BrandingFields(props: { program: Program; error: unknown }) {
  const { branding } = props.program;
  return (
    <fieldset>
      <legend>Branding</legend>
      <div class="inline">
        <TextField label="Main colour" type="color" value={branding.primaryColor} onInput={(v) => update((p) => (p.branding.primaryColor = v))} />
        <TextField label="Text colour on it" type="color" value={branding.textColor} onInput={(v) => update((p) => (p.branding.textColor = v))} />
      </div>
      <Select label="Launcher corner" value={branding.launcherPosition} options={CORNERS} onChange={(v) => update((p) => (p.branding.launcherPosition = v))} />
      <NumberField
        label="Launcher offset (px)"
        integer
        min={0}
        value={branding.launcherOffset}
        onValue={(v) => update((p) => (p.branding.launcherOffset = v ?? 20))}
      />
      <TextField label="Launcher label" maxLength={40} value={branding.launcherLabel} onInput={(v) => update((p) => (p.branding.launcherLabel = v))} />
      <TextField
        label="Sign-up page URL"
        type="url"
        value={branding.signupUrl ?? ""}
        error={fieldError(props.error, "program.branding.signupUrl")}
        onInput={(v) => update((p) => (p.branding.signupUrl = v.trim() === "" ? null : v))}
      />
      <TextField
        label="Sign-in page URL"
        type="url"
        value={branding.loginUrl ?? ""}
        error={fieldError(props.error, "program.branding.loginUrl")}
        onInput={(v) => update((p) => (p.branding.loginUrl = v.trim() === "" ? null : v))}
      />
    </fieldset>
  );
}

function TextsFields(props: { program: Program }) {
  const [lang, setLang] = useState<string>("en");
  useEffect(() => ensureCatalog("en"), []);
  const english = messagesOf("en");
  const keys = Object.keys(english).sort();
  const [key, setKey] = useState("launcher");
  const own = props.program.texts?.[lang] ?? {};
  return (
    <Rows
      legend="Texts"
      intro={
        <>
          <p class="hint">Replace any of the widget's words, per language. Shown as plain text.</p>
          <Select label="Language" value={lang} options={LANGUAGES.map((l) => [l, l] as const)} onChange={setLang} />
        </>
      }
      rows={Object.entries(own)}
      keyOf={([name]) => name}
      fields={([name, text]) => (
        <TextArea
          label={`“${name}” (${lang})`}
          hint={english[name] === undefined ? undefined : `In English by default: ${english[name]}`}
          value={text}
          maxLength={500}
          onInput={(v) => update((p) => (p.texts[lang]![name] = v))}
        />
      )}
      removeLabel={([name]) => `Remove the “${name}” text`}
      onRemove={(p, [name]) => {
        delete p.texts[lang]![name];
        if (Object.keys(p.texts[lang]!).length === 0) delete p.texts[lang];
      }}
    >
      <div class="inline">
        <Select label="Text to replace" value={key} options={keys.map((k) => [k, k] as const)} onChange={setKey} />
        <button
          type="button"
          onClick={() =>
            update((p) => {
              p.texts = p.texts ?? {};
              p.texts[lang] = { ...(p.texts[lang] ?? {}), [key]: english[key] ?? "" };
            })
          }
        >
          Add this text
        </button>
      </div>
    </Rows>
  );
}

export function ProgramPage() {
  const { error, setError, busy, run } = useAction();
  const [status, setStatus] = useState("");

  async function load() {
    setError(null);
    try {
      const { program } = await api<{ program: Program }>("/v1/program");
      draft.value = program;
      saved.value = JSON.stringify(program);
      draftOf.value = shop.value?.id ?? null;
    } catch (err) {
      setError(err);
    }
  }
  useEffect(() => {
    if (!draft.value || draftOf.value !== shop.value?.id) load();
  }, []);

  function save(event: Event) {
    event.preventDefault();
    const program = draft.value;
    if (!program) return;
    setStatus("");
    run(async () => {
      const answer = await api<{ program: Program }>("/v1/program", { method: "PUT", body: { program } });
      draft.value = answer.program;
      saved.value = JSON.stringify(answer.program);
      setStatus("Saved. Shoppers see the new program now.");
    });
  }

  const program = draftOf.value === shop.value?.id ? draft.value : null;
  if (!program) return error ? <ErrorNotice error={error} /> : <p role="status">Loading the program…</p>;
  const dirty = JSON.stringify(program) !== saved.value;
  return (
    <div class="program-layout">
      <form class="settings" onSubmit={save} noValidate>
        <EarningFields program={program} error={error} />
        <WaysFields program={program} />
        <ReferralFields program={program} error={error} />
        <TierFields program={program} />
        <BrandingFields program={program} error={error} />
        <TextsFields program={program} />
        <div class="save-bar">
          <ErrorNotice error={error} />
          <Status>{status}</Status>
          <button type="submit" class="primary" disabled={busy || !dirty}>
            {busy ? "Saving…" : "Save program"}
          </button>
          <button type="button" disabled={busy || !dirty} onClick={load}>
            Discard changes
          </button>
          {dirty && <span class="hint">Unsaved changes.</span>}
        </div>
      </form>
      <aside class="side" aria-label="Preview and simulation">
        <Preview program={program} shopName={shop.value?.name ?? ""} currency={shop.value?.currency ?? "USD"} />
        <Simulator program={program} />
      </aside>
    </div>
  );
}
