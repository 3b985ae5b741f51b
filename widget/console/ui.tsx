/**
 * Form controls and small pieces shared by the console's pages. Every control has a visible
 * <label>, hints and errors are tied to it with aria-describedby, and merchant text is rendered as
 * text (Preact escapes it; nothing here sets HTML).
 */
import type { ComponentChildren } from "preact";
import { useEffect, useId, useLayoutEffect, useRef, useState } from "preact/hooks";
import { formatMoney, parseMoney } from "../../worker/domain/money";
import { ConsoleError } from "./api";
import { fmt } from "./state";

interface FieldProps {
  label: string;
  hint?: string | undefined;
  error?: string | null | undefined;
}

function describedBy(id: string, props: FieldProps): string | undefined {
  const ids = [props.hint ? `${id}-hint` : "", props.error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function FieldText(props: FieldProps & { id: string }) {
  return (
    <>
      {props.hint && (
        <span class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      )}
      {props.error && (
        <span class="field-error" id={`${props.id}-error`}>
          {props.error}
        </span>
      )}
    </>
  );
}

export function TextField(
  props: FieldProps & {
    value: string;
    onInput: (value: string) => void;
    type?: "text" | "password" | "url" | "email" | "search" | "color" | "date" | "datetime-local";
    required?: boolean;
    placeholder?: string;
    maxLength?: number;
    autoComplete?: string;
    name?: string;
  },
) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        // Preact's types tie some attributes to some input types; these all take the same ones.
        type={(props.type ?? "text") as "text"}
        value={props.value}
        required={props.required}
        placeholder={props.placeholder}
        // Only when set: an input that Preact reuses for a field without a limit must not keep
        // (or get) maxlength="0", which lets nothing be typed.
        {...(props.maxLength === undefined ? {} : { maxLength: props.maxLength })}
        autoComplete={props.autoComplete ?? "off"}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props)}
        onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      />
      <FieldText {...props} id={id} />
    </div>
  );
}

export function TextArea(props: FieldProps & { value: string; onInput: (value: string) => void; maxLength?: number }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        value={props.value}
        {...(props.maxLength === undefined ? {} : { maxLength: props.maxLength })}
        rows={2}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props)}
        onInput={(event) => props.onInput((event.currentTarget as HTMLTextAreaElement).value)}
      />
      <FieldText {...props} id={id} />
    </div>
  );
}

/**
 * The attribute a field sets while its text is not a value it can take: CardForm refuses to submit
 * then, so a form never sends a value other than the one the merchant sees.
 */
export const UNPARSED = "data-unparsed";

/**
 * A number typed as text: the draft only changes when the text is a number, so "1." or "" while
 * typing never snaps back. `null` for empty when `optional`. While the text is not a number the
 * field says why and marks itself UNPARSED, and its form is not sent.
 */
export function NumberField(
  props: FieldProps & {
    value: number | null;
    onValue: (value: number | null) => void;
    optional?: boolean;
    integer?: boolean;
    min?: number;
  },
) {
  return (
    <ParsedField
      {...props}
      inputMode={props.integer ? "numeric" : "decimal"}
      format={(value) => String(value)}
      parse={(text) => {
        const value = Number(text);
        if (!Number.isFinite(value) || (props.integer && !Number.isInteger(value))) {
          return props.integer ? "Enter a whole number." : "Enter a number.";
        }
        if (props.min !== undefined && value < props.min) {
          return props.integer ? `Enter a whole number of at least ${props.min}.` : `Enter a number of at least ${props.min}.`;
        }
        return value;
      }}
    />
  );
}

/**
 * An amount of money typed as a decimal ("49.99") and held as integer minor units, so a form never
 * sends an amount it could not read.
 */
export function MoneyField(
  props: FieldProps & { value: number | null; currency: string; onValue: (minor: number | null) => void; min?: number },
) {
  return (
    <ParsedField
      {...props}
      inputMode="decimal"
      format={(minor) => formatMoney(minor, props.currency)}
      parse={(text) => {
        const minor = parseMoney(text, props.currency);
        if (minor === null) return `Enter an amount in ${props.currency}, e.g. ${formatMoney(10_000, props.currency)}.`;
        if (props.min !== undefined && minor < props.min) {
          return `Enter at least ${formatMoney(props.min, props.currency)}.`;
        }
        return minor;
      }}
    />
  );
}

/** The text field behind NumberField and MoneyField: `parse` gives the value or why there is none. */
function ParsedField(
  props: FieldProps & {
    value: number | null;
    onValue: (value: number | null) => void;
    optional?: boolean;
    inputMode: "numeric" | "decimal";
    format: (value: number) => string;
    parse: (text: string) => number | string;
  },
) {
  const id = useId();
  const [text, setText] = useState(props.value === null ? "" : props.format(props.value));
  const [invalid, setInvalid] = useState<string | null>(null);
  useEffect(() => {
    const parsed = text.trim() === "" ? null : props.parse(text.trim());
    // Only an outside change (a reload, a reset) rewrites the text.
    if (parsed !== props.value && invalid === null) setText(props.value === null ? "" : props.format(props.value));
  }, [props.value]);
  const error = props.error ?? invalid;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        inputMode={props.inputMode}
        value={text}
        autoComplete="off"
        {...{ [UNPARSED]: invalid === null ? undefined : "true" }}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, { ...props, error })}
        onInput={(event) => {
          const next = (event.currentTarget as HTMLInputElement).value;
          setText(next);
          if (next.trim() === "") {
            setInvalid(props.optional ? null : "Enter a value.");
            if (props.optional) props.onValue(null);
            return;
          }
          const parsed = props.parse(next.trim());
          if (typeof parsed === "string") {
            setInvalid(parsed);
            return;
          }
          setInvalid(null);
          props.onValue(parsed);
        }}
      />
      <FieldText {...props} error={error} id={id} />
    </div>
  );
}

export function Select<T extends string>(
  props: FieldProps & { value: T; options: readonly (readonly [T, string])[]; onChange: (value: T) => void },
) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        aria-describedby={describedBy(id, props)}
        onChange={(event) => props.onChange((event.currentTarget as HTMLSelectElement).value as T)}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <FieldText {...props} id={id} />
    </div>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (checked: boolean) => void; hint?: string }) {
  const id = useId();
  return (
    <div class="field checkbox">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onChange={(event) => props.onChange((event.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
      {props.hint && (
        <span class="hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      )}
    </div>
  );
}

/** A refused request, with the API's per-field details when it sent them. */
export function ErrorNotice(props: { error: unknown }) {
  if (!props.error) return null;
  const error = props.error;
  const message = error instanceof Error ? error.message : String(error);
  const details = error instanceof ConsoleError ? error.details : [];
  return (
    <div class="notice error" role="alert">
      <p>{message}</p>
      {details.length > 0 && (
        <ul>
          {details.map((d) => (
            <li key={`${d.path}:${d.message}`}>
              <code>{d.path}</code>: {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A polite live region for outcomes ("Saved", "Reward created"). */
export function Status(props: { children?: ComponentChildren }) {
  return (
    <p class="status" role="status" aria-live="polite">
      {props.children}
    </p>
  );
}

/**
 * A request started by a form or a button: `busy` while it runs, a refusal kept in `error` until
 * the next one starts. `run` resolves true when the request went through.
 */
export function useAction() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function run(request: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await request();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { error, setError, busy, run };
}

/**
 * A form in a card that handles its own submission; the fields show errors, not the browser. While
 * a field holds text it cannot read (UNPARSED), the form is not sent and focus goes to that field.
 */
export function CardForm(props: { onSubmit: () => void; children: ComponentChildren }) {
  return (
    <form
      class="card"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const unparsed = (event.currentTarget as HTMLFormElement).querySelector<HTMLElement>(`[${UNPARSED}]`);
        if (unparsed) {
          unparsed.focus();
          return;
        }
        props.onSubmit();
      }}
    >
      {props.children}
    </form>
  );
}

/**
 * A table of records: a caption, a header row naming the columns, then the caller's rows. Each
 * body cell gets its column's name as `data-label`, which the stylesheet shows beside the value on
 * a phone, where the rows are stacked instead of scrolled sideways.
 */
export function DataTable(props: { caption?: ComponentChildren; columns: readonly ComponentChildren[]; testId?: string; children: ComponentChildren }) {
  const table = useRef<HTMLTableElement>(null);
  useLayoutEffect(() => {
    const element = table.current;
    if (!element) return;
    const names = Array.from(element.querySelectorAll(":scope > thead > tr > th"), (cell) => cell.textContent?.trim() ?? "");
    for (const row of Array.from(element.querySelectorAll(":scope > tbody > tr"))) {
      let column = 0;
      for (const cell of Array.from(row.children as HTMLCollectionOf<HTMLTableCellElement>)) {
        if (cell.colSpan > 1) cell.removeAttribute("data-label");
        else if (names[column]) cell.setAttribute("data-label", names[column]!);
        column += cell.colSpan;
      }
    }
  });
  return (
    <table class="data" data-testid={props.testId} ref={table}>
      {props.caption && <caption>{props.caption}</caption>}
      <thead>
        <tr>
          {props.columns.map((column, i) => (
            <th scope="col" key={i}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** "1 point", "1,240 points": a count in the merchant's number format with the word that fits it. */
export function counted(n: number, one: string, many: string): string {
  return `${fmt.value.number(n)} ${n === 1 ? one : many}`;
}

/** How the console names a member: their first name with their id, or the id alone. */
export const memberName = (id: string, firstName?: string | null) => (firstName ? `${firstName} (${id})` : id);

/** A link to a member's profile page. */
export function MemberLink(props: { id: string; firstName?: string | null }) {
  return <a href={`#/customers/${encodeURIComponent(props.id)}`}>{memberName(props.id, props.firstName)}</a>;
}

/** ISO instant <-> the value of an <input type="datetime-local"> in the merchant's time zone. */
export function toLocalInput(iso: string | null): string {
  const at = new Date(iso ?? "");
  if (Number.isNaN(at.getTime())) return "";
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
export function fromLocalInput(value: string): string | null {
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/** The error of the field at `path` in a refused request's details. */
export function fieldError(error: unknown, path: string): string | null {
  if (!(error instanceof ConsoleError)) return null;
  return error.details.find((d) => d.path === path)?.message ?? null;
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
