/**
 * Program settings: earning, ways to earn, referral offer, expiry, tiers, point value, branding and
 * texts, edited as a draft beside a live preview and the simulator; saved whole with PUT /v1/program.
 */
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { Program, TierRule } from "../../worker/contract/program";
import { LANGUAGES } from "../shared/i18n";
import { api } from "./api";
import { ensureCatalog, messagesOf } from "./catalog";
import { Preview } from "./Preview";
import { Simulator } from "./Simulator";
import { shop } from "./state";
import { Checkbox, ErrorNotice, fieldError, NumberField, Select, Status, TextArea, TextField } from "./ui";

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

/** ISO instant <-> the value of an <input type="datetime-local"> in the merchant's time zone. */
const toLocalInput = (iso: string) => {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => {
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? "" : at.toISOString();
};

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
      <fieldset class="rows">
        <legend>Product-type multipliers</legend>
        {multipliers.length === 0 && <p class="hint">None: every product earns at the base rate.</p>}
        {multipliers.map(([type, multiplier], i) => (
          <div class="row" key={i}>
            <TextField
              label="Product type"
              value={type}
              onInput={(v) =>
                update((p) => {
                  const entries = Object.entries(p.earning.productTypeMultipliers);
                  entries[i] = [v, multiplier];
                  p.earning.productTypeMultipliers = Object.fromEntries(entries);
                })
              }
            />
            <NumberField
              label="Multiplier"
              value={multiplier}
              min={0}
              onValue={(v) => update((p) => (p.earning.productTypeMultipliers[type] = v ?? 1))}
            />
            <button type="button" class="link" onClick={() => update((p) => delete p.earning.productTypeMultipliers[type])}>
              Remove {type || "multiplier"}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() =>
            update((p) => {
              let name = "type";
              for (let n = 2; name in p.earning.productTypeMultipliers; n++) name = `type-${n}`;
              p.earning.productTypeMultipliers[name] = 2;
            })
          }
        >
          Add a multiplier
        </button>
      </fieldset>
      <fieldset class="rows">
        <legend>Boosts (time-boxed multipliers)</legend>
        {(earning.boosts ?? []).length === 0 && <p class="hint">No boost planned.</p>}
        {(earning.boosts ?? []).map((boost, i) => (
          <div class="row" key={i}>
            <TextField label="Name" value={boost.name} maxLength={60} onInput={(v) => update((p) => (p.earning.boosts[i]!.name = v))} />
            <NumberField label="Multiplier" value={boost.multiplier} min={0} onValue={(v) => update((p) => (p.earning.boosts[i]!.multiplier = v ?? 1))} />
            <TextField
              label="Starts"
              type="datetime-local"
              value={toLocalInput(boost.startsAt)}
              onInput={(v) => update((p) => (p.earning.boosts[i]!.startsAt = fromLocalInput(v)))}
            />
            <TextField
              label="Ends"
              type="datetime-local"
              value={toLocalInput(boost.endsAt)}
              onInput={(v) => update((p) => (p.earning.boosts[i]!.endsAt = fromLocalInput(v)))}
            />
            <button type="button" class="link" onClick={() => update((p) => p.earning.boosts.splice(i, 1))}>
              Remove boost {boost.name}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() =>
            update((p) => {
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
            })
          }
        >
          Add a boost
        </button>
      </fieldset>
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
      <fieldset class="rows">
        <legend>Custom events</legend>
        {custom.length === 0 && <p class="hint">Send a `custom` event with a name to award points for anything else.</p>}
        {custom.map(([name, way], i) => (
          <div class="row" key={i}>
            <TextField
              label="Event name"
              value={name}
              maxLength={60}
              onInput={(v) =>
                update((p) => {
                  const entries = Object.entries(p.waysToEarn.custom);
                  entries[i] = [v, way];
                  p.waysToEarn.custom = Object.fromEntries(entries);
                })
              }
            />
            <NumberField label="Points" integer min={0} value={way.points} onValue={(v) => update((p) => (p.waysToEarn.custom[name]!.points = v ?? 0))} />
            <NumberField
              label="At most (times per period)"
              integer
              min={1}
              optional
              value={way.limit ?? null}
              onValue={(v) =>
                update((p) => {
                  if (v === null) delete p.waysToEarn.custom[name]!.limit;
                  else p.waysToEarn.custom[name]!.limit = v;
                })
              }
            />
            <NumberField
              label="Period (days)"
              integer
              min={1}
              optional
              value={way.periodDays ?? null}
              onValue={(v) =>
                update((p) => {
                  if (v === null) delete p.waysToEarn.custom[name]!.periodDays;
                  else p.waysToEarn.custom[name]!.periodDays = v;
                })
              }
            />
            <button type="button" class="link" onClick={() => update((p) => delete p.waysToEarn.custom[name])}>
              Remove {name || "event"}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() =>
            update((p) => {
              let name = "event";
              for (let n = 2; name in (p.waysToEarn.custom ?? {}); n++) name = `event-${n}`;
              p.waysToEarn.custom = { ...(p.waysToEarn.custom ?? {}), [name]: { points: 10 } };
            })
          }
        >
          Add a custom event
        </button>
      </fieldset>
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
    <fieldset class="rows">
      <legend>Tiers (lowest first)</legend>
      {tiers.length === 0 && <p class="hint">No tiers.</p>}
      {tiers.map((tier, i) => (
        <div class="row tier" key={i}>
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
              onValue={(v) =>
                update((p) => {
                  if (v === null) delete p.tiers[i]!.windowDays;
                  else p.tiers[i]!.windowDays = v;
                })
              }
            />
          )}
          <NumberField label="Earning multiplier" min={0} value={tier.multiplier} onValue={(v) => set(i, "multiplier", v ?? 1)} />
          <TextArea label="Perks" value={tier.perks} maxLength={500} onInput={(v) => set(i, "perks", v)} />
          <button type="button" class="link" onClick={() => update((p) => p.tiers.splice(i, 1))}>
            Remove tier {tier.name}
          </button>
        </div>
      ))}
      {tiers.length < 10 && (
        <button
          type="button"
          onClick={() =>
            update((p) =>
              p.tiers.push({
                name: `Tier ${p.tiers.length + 1}`,
                basis: "lifetime_points",
                threshold: (p.tiers[p.tiers.length - 1]?.threshold ?? 0) + 500,
                multiplier: 1,
                perks: "",
              }),
            )
          }
        >
          Add a tier
        </button>
      )}
    </fieldset>
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
    <fieldset class="rows">
      <legend>Texts</legend>
      <p class="hint">Replace any of the widget's words, per language. Shown as plain text.</p>
      <Select label="Language" value={lang} options={LANGUAGES.map((l) => [l, l] as const)} onChange={setLang} />
      {Object.entries(own).map(([name, text]) => (
        <div class="row" key={name}>
          <TextArea
            label={`“${name}” (${lang})`}
            hint={english[name] === undefined ? undefined : `In English by default: ${english[name]}`}
            value={text}
            maxLength={500}
            onInput={(v) => update((p) => (p.texts[lang]![name] = v))}
          />
          <button
            type="button"
            class="link"
            onClick={() =>
              update((p) => {
                delete p.texts[lang]![name];
                if (Object.keys(p.texts[lang]!).length === 0) delete p.texts[lang];
              })
            }
          >
            Remove the “{name}” text
          </button>
        </div>
      ))}
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
    </fieldset>
  );
}

export function ProgramPage() {
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);

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

  async function save(event: Event) {
    event.preventDefault();
    if (!draft.value) return;
    setBusy(true);
    setError(null);
    setStatus("");
    try {
      const { program } = await api<{ program: Program }>("/v1/program", { method: "PUT", body: { program: draft.value } });
      draft.value = program;
      saved.value = JSON.stringify(program);
      setStatus("Saved. Shoppers see the new program now.");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
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
