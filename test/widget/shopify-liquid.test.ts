/**
 * The theme app extension's app embed block, rendered with liquidjs for a guest and for a
 * logged-in customer. liquidjs has no Shopify-specific filters, so the test registers them with
 * Shopify's semantics: `hmac_sha256` (hex HMAC-SHA256 of the input, keyed with the argument),
 * `t` (the extension's storefront locale), and `{% schema %}` (parsed, rendered as nothing).
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Liquid, type TagToken, type TopLevelToken } from "liquidjs";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyCustomerDigest } from "../../worker/auth/digest";

const dir = "widget/shopify";
const source = readFileSync(`${dir}/blocks/laurel-embed.liquid`, "utf8");
const storefrontLocale = JSON.parse(readFileSync(`${dir}/locales/en.default.json`, "utf8"));
const schemaLocale = JSON.parse(readFileSync(`${dir}/locales/en.default.schema.json`, "utf8"));
const schema = JSON.parse(/{%\s*schema\s*%}([\s\S]*?){%\s*endschema\s*%}/.exec(source)![1]!);

function lookup(tree: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], tree);
}

function engine(): Liquid {
  const liquid = new Liquid({ strictFilters: true });
  liquid.registerFilter("hmac_sha256", (input: unknown, secret: unknown) =>
    createHmac("sha256", String(secret)).update(String(input)).digest("hex"),
  );
  liquid.registerFilter("t", (key: unknown) => {
    const text = lookup(storefrontLocale, String(key));
    return typeof text === "string" ? text : `translation missing: en.${String(key)}`;
  });
  liquid.registerTag("schema", {
    parse(_token: TagToken, remaining: TopLevelToken[]) {
      while (remaining.length > 0) {
        const next = remaining.shift() as TagToken;
        if (next.name === "endschema") return;
      }
      throw new Error("{% schema %} is not closed");
    },
    render() {
      return "";
    },
  });
  return liquid;
}

const defaults = Object.fromEntries(
  (schema.settings as { id: string; default?: unknown }[]).map((setting) => [setting.id, setting.default ?? ""]),
);
const SECRET = "wsec_2f7c1b0e9a";
const metafields = {
  public_key: { value: "pk_live_laurel_demo" },
  api_origin: { value: "https://loyalty.example.com" },
  widget_secret: { value: SECRET },
};

async function render(context: {
  customer?: { id: number } | null;
  settings?: Record<string, unknown>;
  laurel?: Record<string, { value: string } | undefined>;
}): Promise<HTMLScriptElement | null> {
  const html = await engine().parseAndRender(source, {
    app: { metafields: { laurel: context.laurel ?? metafields } },
    block: { settings: { ...defaults, ...context.settings } },
    customer: context.customer ?? null,
  });
  document.body.innerHTML = html;
  expect(document.querySelectorAll("script").length).toBeLessThanOrEqual(1);
  return document.querySelector("script");
}

beforeEach(() => {
  document.body.innerHTML = "";
});

describe("the app embed block's schema", () => {
  it("is an app embed for the body with position and colour settings", () => {
    expect(schema.target).toBe("body");
    expect(schema.settings.map((s: { id: string; type: string }) => `${s.id}:${s.type}`)).toEqual([
      "override_branding:checkbox",
      "launcher_position:select",
      "launcher_label:text",
      "primary_color:color",
      "text_color:color",
      "use_app_proxy:checkbox",
      "proxy_path:text",
      "api_origin:url",
    ]);
  });

  it("has every merchant-facing label in the schema locale", () => {
    const keys = JSON.stringify(schema).match(/"t:[^"]+"/g)!.map((k) => k.slice(3, -1));
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(typeof lookup(schemaLocale, key), key).toBe("string");
  });

  it("keeps the widget secret out of the theme's settings", () => {
    expect(JSON.stringify(schema)).not.toMatch(/secret/i);
    expect(source).toMatch(/app\.metafields\.laurel/);
  });
});

describe("rendering", () => {
  it("loads laurel.js for a guest with the shop key and no identity", async () => {
    const script = await render({ customer: null });
    expect(script).not.toBeNull();
    expect(script!.getAttribute("src")).toBe("https://loyalty.example.com/laurel.js");
    expect(script!.hasAttribute("async")).toBe(true);
    expect(script!.dataset.shop).toBe("pk_live_laurel_demo");
    expect(script!.dataset.customerId).toBeUndefined();
    expect(script!.dataset.customerTs).toBeUndefined();
    expect(script!.dataset.customerDigest).toBeUndefined();
    expect(script!.dataset.api).toBeUndefined();
    expect(script!.dataset.launcherPosition).toBeUndefined();
  });

  it("signs a logged-in customer's id and time with the metafield secret", async () => {
    const before = Math.floor(Date.now() / 1000);
    const script = await render({ customer: { id: 7270431457386 } });
    const after = Math.floor(Date.now() / 1000);
    const { customerId, customerTs, customerDigest } = script!.dataset;
    expect(customerId).toBe("7270431457386");
    expect(Number(customerTs)).toBeGreaterThanOrEqual(before);
    expect(Number(customerTs)).toBeLessThanOrEqual(after);
    expect(customerDigest).toBe(createHmac("sha256", SECRET).update(`${customerId}.${customerTs}`).digest("hex"));
    // What the block signs is what the storefront session endpoint accepts.
    const identity = { id: customerId!, ts: customerTs!, digest: customerDigest! };
    expect(await verifyCustomerDigest(SECRET, identity)).toBe(true);
    expect(await verifyCustomerDigest("another secret", identity)).toBe(false);
    expect(await verifyCustomerDigest(SECRET, { ...identity, id: "7270431457387" })).toBe(false);
  });

  it("treats a logged-in customer as a guest while the secret metafield is missing", async () => {
    const script = await render({ customer: { id: 42 }, laurel: { ...metafields, widget_secret: undefined } });
    expect(script!.dataset.shop).toBe("pk_live_laurel_demo");
    expect(script!.dataset.customerDigest).toBeUndefined();
  });

  it("renders nothing until the shop is connected, and falls back to the server URL setting", async () => {
    expect(await render({ laurel: { ...metafields, public_key: undefined } })).toBeNull();
    expect(await render({ laurel: { ...metafields, api_origin: undefined } })).toBeNull();
    const script = await render({
      laurel: { ...metafields, api_origin: undefined },
      settings: { api_origin: "https://rewards.example.org" },
    });
    expect(script!.getAttribute("src")).toBe("https://rewards.example.org/laurel.js");
  });

  it("passes the theme editor's launcher settings when they override the branding", async () => {
    const script = await render({
      settings: { override_branding: true, launcher_position: "bottom-left", primary_color: "#0a7d3b", text_color: "#fffff0" },
    });
    expect(script!.dataset).toMatchObject({
      launcherPosition: "bottom-left",
      launcherLabel: "Rewards",
      primaryColor: "#0a7d3b",
      textColor: "#fffff0",
    });
    const labelled = await render({ settings: { override_branding: true, launcher_label: "Club" } });
    expect(labelled!.dataset.launcherLabel).toBe("Club");
  });

  it("sends API calls through the app proxy path when asked", async () => {
    const script = await render({ customer: { id: 42 }, settings: { use_app_proxy: true } });
    expect(script!.dataset.api).toBe("/apps/laurel");
    expect(script!.dataset.customerId).toBe("42");
  });

  it("escapes what it puts into attributes", async () => {
    const script = await render({ laurel: { ...metafields, public_key: { value: 'pk_"><img src=x>' } } });
    expect(script!.dataset.shop).toBe('pk_"><img src=x>');
    expect(document.querySelector("img")).toBeNull();
  });
});
