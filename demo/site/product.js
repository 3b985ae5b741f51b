import { addToCart, formatPrice, notify, post, productBySku, products, shopper, start } from "./shop.js";

const sku = new URLSearchParams(location.search).get("sku");
const product = productBySku(sku) ?? products[0];

document.title = `${product.name} · Juniper & Oak`;
document.getElementById("name").textContent = product.name;
document.getElementById("type").textContent = product.type;
document.getElementById("blurb").textContent = product.blurb;
document.getElementById("price").textContent = formatPrice(product.price);
const image = document.getElementById("image");
image.src = `img/${product.sku}.svg`;
image.alt = product.name;
// The nudge: laurel.js fills it in with "Earn N points" from the program's own rules.
const nudge = document.getElementById("earn");
nudge.dataset.price = product.price;
nudge.dataset.productType = product.type;

document.getElementById("add").addEventListener("click", () => {
  const quantity = Number(document.getElementById("quantity").value) || 1;
  addToCart(product.sku, quantity);
  notify(`${quantity} × ${product.name} added to your cart.`);
});

document.getElementById("review").addEventListener("click", async () => {
  try {
    const result = await post("/demo/api/reviews", { customer: shopper() });
    await window.Laurel?.refresh();
    notify(`Thanks for your review! ${result.points} points earned.`);
  } catch (error) {
    notify(error.message);
  }
});

start();
