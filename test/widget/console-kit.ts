/**
 * Small helpers for the console's DOM tests: a fetch answering from a table of routes (and
 * recording each call), waiting for Preact to settle, and finding controls by their label.
 */
import { vi } from "vitest";

export interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Answer = { status: number; body: unknown };

/** A fetch that answers from `routes` ("METHOD /path" -> status and body) and records each call. */
export function fakeFetch(routes: Record<string, (call: Call) => Answer | Promise<Answer>>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const url = new URL(input, "https://laurel.test");
      const call: Call = {
        method: init.method ?? "GET",
        path: url.pathname + url.search,
        headers: { ...((init.headers ?? {}) as Record<string, string>) },
        body: init.body ? JSON.parse(String(init.body)) : undefined,
      };
      calls.push(call);
      const route = routes[`${call.method} ${url.pathname}`];
      if (!route) return new Response(JSON.stringify({ error: { code: "not_found", message: "no route" } }), { status: 404 });
      const answer = await route(call);
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "content-type": "application/json" } });
    }),
  );
  return calls;
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

export async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await tick();
}

/** Polls until `ready()` holds, or fails after two seconds. */
export async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(10);
  }
}

export const root = (): HTMLElement => document.getElementById("root")!;
export const text = (): string => root().textContent ?? "";

/** Types into a field and lets Preact re-render, as the time between a keystroke and a click does. */
export async function typeInto(input: HTMLInputElement | HTMLTextAreaElement, value: string): Promise<void> {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  await settle();
}

export async function choose(select: HTMLSelectElement, value: string): Promise<void> {
  select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
  await settle();
}

/** The one control labelled `label` (exactly), inside `within`. */
export function labelled<T extends HTMLElement = HTMLInputElement>(label: string, within: ParentNode = root()): T {
  const labels = Array.from(within.querySelectorAll("label")).filter((l) => l.textContent === label);
  if (labels.length !== 1) throw new Error(`${labels.length} labels "${label}"`);
  return document.getElementById(labels[0]!.htmlFor) as T;
}

export function button(name: string, within: ParentNode = root()): HTMLButtonElement {
  const found = Array.from(within.querySelectorAll("button")).find((b) => b.textContent?.trim() === name);
  if (!found) throw new Error(`no button "${name}"`);
  return found;
}

/** What a field says about itself: the texts its aria-describedby points at. */
export function described(input: HTMLElement): string {
  return (input.getAttribute("aria-describedby") ?? "")
    .split(" ")
    .filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent ?? "")
    .join(" ");
}
