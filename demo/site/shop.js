/**
 * The demo shop's own script, standing in for a merchant's server-rendered pages: the catalog,
 * the cart, the shopper switcher, and the laurel.js tag with a digest signed by /demo/api/session.
 */

export const products = [
  { sku: "sencha", name: "Sencha Kagoshima", type: "Tea", price: "14.50", blurb: "Bright, grassy green tea from southern Japan. 50 g tin." },
  { sku: "earl-grey", name: "Earl Grey Supreme", type: "Tea", price: "12.00", blurb: "Ceylon black tea with bergamot and cornflower. 100 g tin." },
  { sku: "jasmine", name: "Jasmine Pearls", type: "Tea", price: "18.90", blurb: "Hand-rolled green tea scented with fresh jasmine. 50 g tin." },
  { sku: "teapot", name: "Cast-iron teapot", type: "Teaware", price: "49.99", blurb: "0.8 l, enamelled inside, with a fine steel infuser." },
  { sku: "mug", name: "Glass infuser mug", type: "Teaware", price: "22.00", blurb: "Double-walled borosilicate glass, 350 ml." },
  { sku: "scoop", name: "Bamboo tea scoop", type: "Teaware", price: "6.50", blurb: "One scoop, one cup: carved from a single piece." },
];

const SHOPPER_KEY = "laurel-demo-shopper";
const CART_KEY = "laurel-demo-cart";
const money = new Intl.NumberFormat("en-IE", { style: "currency", currency: "EUR" });

export const formatPrice = (price) => money.format(Number(price));
export const productBySku = (sku) => products.find((product) => product.sku === sku);

export function shopper() {
  return localStorage.getItem(SHOPPER_KEY) ?? "demo-ada";
}

export function cart() {
  try {
    const items = JSON.parse(localStorage.getItem(CART_KEY) ?? "[]");
    return Array.isArray(items) ? items.filter((item) => productBySku(item.sku)) : [];
  } catch {
    return [];
  }
}

export function saveCart(items) {
  localStorage.setItem(CART_KEY, JSON.stringify(items));
  renderCartCount();
}

export function addToCart(sku, quantity = 1) {
  const items = cart();
  const line = items.find((item) => item.sku === sku);
  if (line) line.quantity += quantity;
  else items.push({ sku, quantity });
  saveCart(items);
}

function renderCartCount() {
  const count = cart().reduce((sum, item) => sum + item.quantity, 0);
  for (const badge of document.querySelectorAll("[data-cart-count]")) badge.textContent = String(count);
}

/** Says something to the shopper (and to screen readers) in the page's status line. */
export function notify(message) {
  const notice = document.getElementById("notice");
  if (!notice) return;
  notice.textContent = message;
}

async function session(id) {
  const response = await fetch(`/demo/api/session?customer=${encodeURIComponent(id)}`);
  if (!response.ok) throw new Error(`The demo server answered ${response.status}.`);
  return response.json();
}

/** What a merchant's template prints: the widget's script tag with the shopper's digest. */
function loadWidget(demo) {
  const script = document.createElement("script");
  script.src = "/laurel.js";
  script.async = true;
  script.dataset.shop = demo.shop;
  script.dataset.nonce = "laurel-demo";
  if (demo.customer) {
    script.dataset.customerId = demo.customer.id;
    script.dataset.customerTs = demo.customer.ts;
    script.dataset.customerDigest = demo.customer.digest;
  }
  document.body.append(script);
}

/** Posts to the demo server; errors come back as the API's error body. */
export async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new Error(payload?.error?.message ?? `The demo server answered ${response.status}.`);
  return payload;
}

/** Places an order for the current shopper and lets the widget read its new state. */
export async function placeOrder(items, extra = {}) {
  const result = await post("/demo/api/orders", {
    customer: shopper(),
    items: items.map(({ sku, quantity }) => {
      const product = productBySku(sku);
      return { sku, quantity, price: product.price, productType: product.type };
    }),
    ...extra,
  });
  await window.Laurel?.refresh();
  return result;
}

function setUpSwitcher(demo) {
  const select = document.getElementById("shopper");
  if (!select) return;
  select.value = shopper();
  select.addEventListener("change", async () => {
    localStorage.setItem(SHOPPER_KEY, select.value);
    const next = await session(select.value);
    await window.Laurel?.identify(next.customer);
    const name = demo.customers.find((customer) => customer.id === select.value)?.firstName ?? "a guest";
    notify(`You are now shopping as ${name}.`);
  });
}

function setUpSampleOrder() {
  const button = document.getElementById("sample-order");
  if (!button) return;
  button.addEventListener("click", async () => {
    if (shopper() === "guest") {
      notify("Pick Ada or Ben above to place a sample order (guests check out from the cart with an email).");
      return;
    }
    button.disabled = true;
    try {
      const result = await placeOrder([
        { sku: "sencha", quantity: 1 },
        { sku: "mug", quantity: 1 },
      ]);
      notify(`Order ${result.orderId} placed (${formatPrice(result.subtotal)}): ${result.points} points earned.`);
    } catch (error) {
      notify(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

export async function start() {
  renderCartCount();
  try {
    const demo = await session(shopper());
    setUpSwitcher(demo);
    setUpSampleOrder();
    loadWidget(demo);
  } catch (error) {
    notify(`The demo server is not answering (${error.message}). Is npm start running?`);
  }
}
