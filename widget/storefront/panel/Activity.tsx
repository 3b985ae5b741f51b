/** The latest ledger entries: what moved the balance, when, and by how much. */
import type { LedgerEntry } from "../../../worker/contract/types";
import { useEnv } from "./env";

export function Activity(props: { entries: LedgerEntry[] }) {
  const { t, fmt } = useEnv();
  return (
    <section aria-labelledby="laurel-activity">
      <h3 id="laurel-activity">{t.value("activityTitle")}</h3>
      {props.entries.length === 0 ? (
        <p class="muted small">{t.value("noActivity")}</p>
      ) : (
        <ul class="activity">
          {props.entries.slice(0, 10).map((entry) => {
            const label = t.value(`kind_${entry.kind}`);
            return (
              <li key={entry.id}>
                <span>{label.startsWith("kind_") ? entry.kind : label}</span>
                <time class="muted small" dateTime={entry.createdAt}>
                  {fmt.value.date(entry.createdAt)}
                </time>
                <span class={entry.delta < 0 ? "delta minus" : "delta plus"}>{fmt.value.signed(entry.delta)}</span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
