/**
 * What a merchant pastes into their shop: the script tag, and the customer digest, hex
 * HMAC-SHA256(widgetSecret, "{id}.{ts}") with ts in unix seconds (accepted for 24 h), computed on
 * their server in the language they use. The widget secret never goes to the browser.
 */

export interface Snippets {
  scriptTag: string;
  node: string;
  php: string;
  python: string;
  ruby: string;
  liquid: string;
}

export function snippets(origin: string, publicKey: string): Snippets {
  const src = `${origin}/laurel.js`;
  return {
    scriptTag: `<!-- Guests: just the tag. Signed-in customers: add the three data-customer-* attributes. -->
<script src="${src}" data-shop="${publicKey}"
  data-customer-id="CUSTOMER_ID" data-customer-ts="TS" data-customer-digest="DIGEST" async></script>`,
    node: `import { createHmac } from "node:crypto";

// LAUREL_WIDGET_SECRET is the widget secret shown when the shop was created.
export function laurelIdentity(customerId) {
  const id = String(customerId);
  const ts = Math.floor(Date.now() / 1000);
  const digest = createHmac("sha256", process.env.LAUREL_WIDGET_SECRET).update(\`\${id}.\${ts}\`).digest("hex");
  return { id, ts, digest };
}`,
    php: `<?php
// LAUREL_WIDGET_SECRET is the widget secret shown when the shop was created.
function laurel_identity(string $customerId): array {
    $ts = time();
    $digest = hash_hmac('sha256', $customerId . '.' . $ts, getenv('LAUREL_WIDGET_SECRET'));
    return ['id' => $customerId, 'ts' => $ts, 'digest' => $digest];
}`,
    python: `import hashlib
import hmac
import os
import time

# LAUREL_WIDGET_SECRET is the widget secret shown when the shop was created.
def laurel_identity(customer_id: str) -> dict:
    ts = int(time.time())
    message = f"{customer_id}.{ts}".encode()
    digest = hmac.new(os.environ["LAUREL_WIDGET_SECRET"].encode(), message, hashlib.sha256).hexdigest()
    return {"id": customer_id, "ts": ts, "digest": digest}`,
    ruby: `require "openssl"

# LAUREL_WIDGET_SECRET is the widget secret shown when the shop was created.
def laurel_identity(customer_id)
  ts = Time.now.to_i
  digest = OpenSSL::HMAC.hexdigest("SHA256", ENV.fetch("LAUREL_WIDGET_SECRET"), "#{customer_id}.#{ts}")
  { id: customer_id.to_s, ts: ts, digest: digest }
end`,
    liquid: `{%- comment -%}
  Without the app embed: keep the widget secret in a theme setting (laurel_widget_secret).
  Liquid runs on Shopify's servers, so the secret is never sent to the browser.
{%- endcomment -%}
{%- if customer -%}
  {%- assign laurel_ts = 'now' | date: '%s' -%}
  {%- assign laurel_message = customer.id | append: '.' | append: laurel_ts -%}
  {%- assign laurel_digest = laurel_message | hmac_sha256: settings.laurel_widget_secret -%}
{%- endif -%}
<script src="${src}" async data-shop="${publicKey}"
  {%- if customer %} data-customer-id="{{ customer.id }}" data-customer-ts="{{ laurel_ts }}" data-customer-digest="{{ laurel_digest }}"{% endif %}></script>`,
  };
}
