import { addToCart, notify, productBySku, start } from "./shop.js";

for (const button of document.querySelectorAll("[data-add]")) {
  button.addEventListener("click", () => {
    addToCart(button.dataset.add);
    notify(`${productBySku(button.dataset.add).name} added to your cart.`);
  });
}
start();
