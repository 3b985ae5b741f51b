/** The merchant console's entry (its own bundle, never part of laurel.js). */
import { render } from "preact";
import { App } from "./App";
import { parseRoute, route } from "./state";
import "./console.css";

addEventListener("hashchange", () => {
  route.value = parseRoute(location.hash);
});

render(<App />, document.getElementById("app")!);
