import { cart, formatPrice, notify, placeOrder, productBySku, saveCart, shopper, start } from "./shop.js";

const list = document.getElementById("lines");
const total = document.getElementById("subtotal");
const checkout = document.getElementById("checkout");
const emailRow = document.getElementById("email-row");

function render() {
  const items = cart();
  list.replaceChildren();
  let sum = 0;
  for (const item of items) {
    const product = productBySku(item.sku);
    sum += Number(product.price) * item.quantity;
    const row = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = `${item.quantity} × ${product.name}`;
    const price = document.createElement("span");
    price.textContent = formatPrice(String(Number(product.price) * item.quantity));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${product.name}`);
    remove.addEventListener("click", () => {
      saveCart(cart().filter((line) => line.sku !== item.sku));
      render();
    });
    row.append(name, price, remove);
    list.append(row);
  }
  if (items.length === 0) {
    const empty = document.createElement("li");
    empty.textContent = "Your cart is empty.";
    list.append(empty);
  }
  total.textContent = formatPrice(String(sum));
  const nudge = document.getElementById("earn");
  nudge.dataset.price = sum.toFixed(2);
  checkout.disabled = items.length === 0;
  // Only a guest gives an email: for a signed-in shopper the hidden field is disabled, which also
  // takes it out of the form's validation (a hidden required field would block the order).
  const guest = shopper() === "guest";
  emailRow.hidden = !guest;
  document.getElementById("email").disabled = !guest;
}

document.getElementById("shopper")?.addEventListener("change", render);

document.getElementById("checkout-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const items = cart();
  if (items.length === 0) return;
  const code = document.getElementById("code").value.trim();
  const email = document.getElementById("email").value.trim();
  checkout.disabled = true;
  try {
    const result = await placeOrder(items, {
      ...(code ? { discountCodes: [code] } : {}),
      ...(shopper() === "guest" ? { email } : {}),
    });
    saveCart([]);
    render();
    notify(`Order ${result.orderId} placed (${formatPrice(result.subtotal)}): ${result.points} points earned.`);
  } catch (error) {
    notify(error.message);
  } finally {
    checkout.disabled = cart().length === 0;
  }
});

render();
start();
