/** The merchant console's entry (its own bundle, never part of laurel.js). */
import { render } from "preact";
import { App } from "./App";
import { startEmbedded } from "./embedded";
import { parseRoute, route } from "./state";
import "./console.css";

addEventListener("hashchange", () => {
  route.value = parseRoute(location.hash);
});

// In the Shopify admin the console signs in with App Bridge's session tokens, not a secret key.
startEmbedded();
render(<App />, document.getElementById("app")!);
