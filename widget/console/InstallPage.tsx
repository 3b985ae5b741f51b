/** Installing the widget: the script tag, the Shopify app embed, and the customer digest in five languages. */
import { useState } from "preact/hooks";
import { type Snippets, snippets } from "./snippets";
import { shop } from "./state";

const LANGUAGES: [keyof Snippets, string][] = [
  ["node", "Node.js"],
  ["php", "PHP"],
  ["python", "Python"],
  ["ruby", "Ruby"],
  ["liquid", "Liquid (Shopify theme, without the app embed)"],
];

function Code(props: { id: string; label: string; code: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <figure class="code">
      <figcaption>{props.label}</figcaption>
      <pre>
        <code>{props.code}</code>
      </pre>
      <button
        type="button"
        aria-label={`Copy the ${props.label} code`}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.code);
            setCopied(true);
            setTimeout(() => setCopied(false), 2000);
          } catch {
            setCopied(false);
          }
        }}
      >
        Copy
      </button>
      <span role="status" class="hint">
        {copied ? "Copied" : ""}
      </span>
    </figure>
  );
}

export function InstallPage() {
  const current = shop.value!;
  const code = snippets(location.origin, current.publicKey);
  return (
    <>
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Your shop</h2>
        <dl class="facts">
          <div>
            <dt>Public key (for the script tag)</dt>
            <dd>
              <code>{current.publicKey}</code>
            </dd>
          </div>
          <div>
            <dt>Widget secret (for the digest)</dt>
            <dd>Shown once when the shop was created. Keep it on your server only, never in pages.</dd>
          </div>
          <div>
            <dt>Platform</dt>
            <dd>{current.platform === "shopify" ? `Shopify (${current.shopifyDomain ?? ""})` : "Any other platform"}</dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="tag-title">
        <h2 id="tag-title">1. Add the script tag</h2>
        <p>
          Put this before <code>&lt;/body&gt;</code> on every page. For a signed-in customer, your server fills in their id,
          the current time in seconds and the digest (step 2); for guests leave the three data-customer-* attributes out.
        </p>
        <Code id="script-tag" label="Script tag" code={code.scriptTag} />
      </section>
      <section aria-labelledby="digest-title">
        <h2 id="digest-title">2. Sign the customer on your server</h2>
        <p>
          The digest is the hex HMAC-SHA256 of <code>{"{customer id}.{unix time}"}</code> keyed with the widget secret. It
          is accepted for 24 hours, so compute it when you render the page.
        </p>
        {LANGUAGES.map(([key, label]) => (
          <Code key={key} id={`digest-${key}`} label={label} code={code[key]} />
        ))}
      </section>
      <section aria-labelledby="shopify-title">
        <h2 id="shopify-title">On Shopify: the app embed</h2>
        <ol>
          <li>Install the Laurel app and connect the store (POST /v1/shopify/connect with the Admin API token): Laurel writes the public key, its address and the widget secret as app-owned metafields.</li>
          <li>
            In the Shopify admin, open Online Store → Themes → Customize → App embeds and switch on <strong>Laurel rewards</strong>.
            It loads the widget on every page and signs the logged-in customer with Liquid; no theme code to edit.
          </li>
          <li>Optionally set the launcher's corner, label and colours in the embed's settings.</li>
        </ol>
      </section>
    </>
  );
}
