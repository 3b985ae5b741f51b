/**
 * A live preview of what shoppers see, drawn from the draft program with the widget's own pieces:
 * its messages and the merchant's texts (shared/i18n), its theme (shared/theme), its money format
 * (shared/format) and the server's earning rules (domain/earning) for the "Earn N points" nudge.
 * It shows the launcher and what a guest's panel shows of the program (the join prompt and the
 * ways to earn), nothing the real panel would not; merchant text is set as text only.
 */
import { useEffect, useState } from "preact/hooks";
import type { Program } from "../../worker/contract/program";
import { pointsForProduct } from "../../worker/domain/earning";
import { parseMoney } from "../../worker/domain/money";
import { createFormatter } from "../shared/format";
import { createTranslator, LANGUAGES, type Language } from "../shared/i18n";
import { themeVariables } from "../shared/theme";
import { ensureCatalog, messagesOf, panelCatalogs } from "./catalog";
import { Select } from "./ui";

const LANGUAGE_NAMES: Record<Language, string> = {
  en: "English",
  tr: "Türkçe",
  de: "Deutsch",
  fr: "Français",
  es: "Español",
};

export function Preview(props: { program: Program; shopName: string; currency: string }) {
  const { program, currency } = props;
  const [lang, setLang] = useState<Language>("en");
  const [price, setPrice] = useState("49.99");
  useEffect(() => ensureCatalog(lang), [lang]);
  const loaded = panelCatalogs.value[lang] !== undefined;
  const t = createTranslator(lang, messagesOf(lang), program.texts);
  const fmt = createFormatter(lang, currency);
  const priceMinor = parseMoney(price, currency);
  const nudge = priceMinor === null ? null : pointsForProduct(program.earning, currency, priceMinor);
  const { branding, waysToEarn, referral } = program;
  const ways: [string, number][] = [];
  if (waysToEarn.signup > 0) ways.push([t("waySignup"), waysToEarn.signup]);
  if (waysToEarn.birthday > 0) ways.push([t("wayBirthday"), waysToEarn.birthday]);
  if (waysToEarn.review > 0) ways.push([t("wayReview"), waysToEarn.review]);
  if (waysToEarn.nps > 0) ways.push([t("wayNps"), waysToEarn.nps]);
  if ((waysToEarn.social ?? 0) > 0) ways.push([t("waySocial"), waysToEarn.social ?? 0]);
  if (referral.referrerPoints > 0) ways.push([t("wayReferral"), referral.referrerPoints]);
  const left = branding.launcherPosition === "bottom-left";

  return (
    <section class="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <div class="preview-controls">
        <Select
          label="Shopper's language"
          value={lang}
          options={LANGUAGES.map((l) => [l, LANGUAGE_NAMES[l]] as const)}
          onChange={setLang}
        />
        <div class="field">
          <label for="preview-price">Sample product price</label>
          <input
            id="preview-price"
            type="text"
            inputMode="decimal"
            value={price}
            onInput={(e) => setPrice((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
      </div>
      {!loaded && <p role="status">Loading the widget's words…</p>}
      <div class="preview-page" style={themeVariables(branding)} lang={lang} data-testid="widget-preview" hidden={!loaded}>
        <p class="preview-product">
          <span>{fmt.decimal(price)}</span>{" "}
          <span class="preview-nudge" data-testid="preview-nudge">
            {nudge === null ? "" : t("earn", { n: nudge })}
          </span>
        </p>
        <div class="preview-panel">
          <h3>{t("guestTitle", { shop: props.shopName })}</h3>
          <p>{t("guestPitch")}</p>
          <p class="preview-links">
            {branding.signupUrl && <span class="preview-button">{t("join")}</span>}
            {branding.loginUrl && (
              <span class="small">
                {t("alreadyMember")} <u>{t("signIn")}</u>
              </span>
            )}
          </p>
          <h4>{t("waysTitle")}</h4>
          <ul class="preview-ways">
            {program.earning.pointsPerUnit > 0 && (
              <li data-testid="preview-rate">{t("earnPerUnit", { n: program.earning.pointsPerUnit, amount: fmt.units(1) })}</li>
            )}
            {ways.map(([label, points]) => (
              <li key={label}>
                <span>{label}</span> <strong>{t("points", { n: points })}</strong>
              </li>
            ))}
          </ul>
        </div>
        <span
          class={`preview-launcher${left ? " left" : ""}`}
          data-testid="preview-launcher"
          style={{ [left ? "left" : "right"]: `${branding.launcherOffset}px`, bottom: `${branding.launcherOffset}px` }}
        >
          {branding.launcherLabel || t("launcher")}
        </span>
      </div>
    </section>
  );
}
