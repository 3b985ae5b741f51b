/**
 * The simulator beside the settings form: the draft program replayed over the shop's recent orders,
 * side by side with the current program, before anything is saved.
 */
import { useState } from "preact/hooks";
import type { Simulation } from "../../worker/contract/analytics";
import type { Program } from "../../worker/contract/program";
import { api } from "./api";
import { fmt } from "./state";
import { DataTable, ErrorNotice, Select, useAction } from "./ui";

const WINDOWS = [
  ["30", "30 days"],
  ["90", "90 days"],
  ["180", "180 days"],
  ["365", "365 days"],
] as const;

const percent = (ratio: number | null) =>
  ratio === null ? "–" : new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 2 }).format(ratio);

type Side = Simulation["current"];

function change(current: number, proposed: number): string {
  if (current === proposed) return "no change";
  if (current === 0) return proposed > 0 ? "new" : "–";
  const ratio = (proposed - current) / current;
  return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" }).format(ratio);
}

export function Simulator(props: { program: Program }) {
  const [days, setDays] = useState<(typeof WINDOWS)[number][0]>("90");
  const [result, setResult] = useState<{ simulation: Simulation; program: string } | null>(null);
  const { error, busy, run } = useAction();
  const draft = JSON.stringify(props.program);

  const simulate = () =>
    run(async () => {
      const simulation = await api<Simulation>("/v1/program/simulate", {
        method: "POST",
        body: { program: props.program, days: Number(days) },
      });
      setResult({ simulation, program: draft });
    });

  const f = fmt.value;
  const s = result?.simulation;
  const rows: [string, (side: Side) => string, (side: Side) => number][] = [
    ["Points issued", (x) => f.number(x.pointsIssued), (x) => x.pointsIssued],
    ["Points clawed back", (x) => f.number(x.pointsReversed), (x) => x.pointsReversed],
    ["Net points to members", (x) => f.number(x.netPoints), (x) => x.netPoints],
    ["Liability (points)", (x) => f.number(x.liabilityPoints), (x) => x.liabilityPoints],
    ["Liability", (x) => f.decimal(x.liability), (x) => Number(x.liability)],
    ["Cost of points", (x) => f.decimal(x.cost), (x) => Number(x.cost)],
    ["Cost as a share of revenue", (x) => percent(x.costShare), (x) => x.costShare ?? 0],
  ];
  const tierNames = s
    ? [...new Set([...s.current.tiers, ...s.proposed.tiers].map((t) => t.tier))]
    : [];
  const membersIn = (side: Side, tier: string | null) => side.tiers.find((t) => t.tier === tier)?.members ?? 0;

  return (
    <section class="simulator" aria-labelledby="simulator-title">
      <h2 id="simulator-title">Simulate before saving</h2>
      <p class="hint">Replays your recent orders under the settings on this page, beside the program you have now.</p>
      <div class="inline">
        <Select label="Orders of the last" value={days} options={WINDOWS} onChange={setDays} />
        <button type="button" onClick={simulate} disabled={busy}>
          {busy ? "Simulating…" : "Run simulation"}
        </button>
      </div>
      <ErrorNotice error={error} />
      <div aria-live="polite">
        {s && (
          <>
            {result.program !== draft && (
              <p class="notice">The settings have changed since this simulation; run it again to see their effect.</p>
            )}
            <p>
              {f.number(s.orders)} orders by {f.number(s.members)} members, revenue {f.decimal(s.current.revenue)}. The
              current program replayed gives {f.number(s.current.ordersMatchingRecorded)} of {f.number(s.orders)} orders
              exactly the points they were awarded.
            </p>
            <DataTable
              testId="simulation"
              caption={`Current and proposed program over ${s.window.days} days`}
              columns={["Figure", "Current", "Proposed", "Change"]}
            >
              {rows.map(([label, show, value]) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  <td>{show(s.current)}</td>
                  <td>{show(s.proposed)}</td>
                  <td>{change(value(s.current), value(s.proposed))}</td>
                </tr>
              ))}
              {tierNames.map((tier) => (
                <tr key={tier ?? "(none)"}>
                  <th scope="row">Members in {tier === null ? "no tier" : `tier “${tier}”`}</th>
                  <td>{f.number(membersIn(s.current, tier))}</td>
                  <td>{f.number(membersIn(s.proposed, tier))}</td>
                  <td>{change(membersIn(s.current, tier), membersIn(s.proposed, tier))}</td>
                </tr>
              ))}
            </DataTable>
            <details>
              <summary>How the simulation works</summary>
              <ul>
                {s.assumptions.map((a) => (
                  <li key={a}>{a}</li>
                ))}
              </ul>
            </details>
          </>
        )}
      </div>
    </section>
  );
}
