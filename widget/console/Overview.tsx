/** The program's health for a period: the figures, charts of their course, members at risk, exports. */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Analytics } from "../../worker/contract/analytics";
import { api, download } from "./api";
import { Chart } from "./Chart";
import { fmt } from "./state";
import { counted, DataTable, ErrorNotice, MemberLink, useAction, useLoad } from "./ui";

const percent = (ratio: number | null) =>
  ratio === null ? "–" : new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 }).format(ratio);

interface Figure {
  label: string;
  value: string;
  help: string;
}

function figuresOf(a: Analytics): Figure[] {
  const f = fmt.value;
  const points = (n: number) => f.number(n);
  return [
    { label: "Members", value: points(a.members), help: `${points(a.newMembers)} joined in the period` },
    { label: "Active members", value: points(a.activeMembers), help: "Ordered or redeemed in the period" },
    { label: "Points issued", value: points(a.pointsIssued), help: `${points(a.pointsClawedBack)} clawed back by refunds` },
    { label: "Points redeemed", value: points(a.pointsRedeemed), help: "Less redemptions voided" },
    { label: "Points expired", value: points(a.pointsExpired), help: "Removed by expiry" },
    {
      label: "Liability",
      value: f.decimal(a.liability),
      help: `${counted(a.liabilityPoints, "point", "points")} outstanding at ${f.decimal(a.pointValue)} each`,
    },
    { label: "Redemption rate", value: percent(a.redemptionRate), help: "Of the points available in the period" },
    { label: "Repeat purchase rate", value: percent(a.repeatPurchaseRate), help: "Buyers with two or more orders" },
    {
      label: "Retention rate",
      value: percent(a.retentionRate),
      help:
        a.retention.start === 0
          ? "No member ordered in the period before this one, so there is no one to keep yet"
          : `${points(a.retention.end - a.retention.new)} of the ${counted(a.retention.start, "member", "members")} who ordered in the period before ordered again`,
    },
    {
      label: "Average lifetime value",
      value: a.averageLifetimeValue === null ? "–" : f.decimal(a.averageLifetimeValue),
      help: "Net spend per member who ordered",
    },
    {
      label: "NPS",
      value: a.nps === null ? "–" : String(a.nps),
      help: counted(a.npsResponses.responses, "answer", "answers"),
    },
    {
      label: "Referral conversion",
      value: percent(a.referralConversion),
      help: `${points(a.referrals.completed)} of ${counted(a.referrals.claims - a.referrals.rejected, "claim", "claims")} completed`,
    },
    {
      label: "Challenge completion",
      value: percent(a.challengeCompletion),
      help: `${points(a.challenges.completed)} of ${counted(a.challenges.participants, "member", "members")} taking part`,
    },
    { label: "Members at risk", value: points(a.atRiskCount), help: "Overdue against their own order rhythm" },
  ];
}

function Charts(props: { analytics: Analytics }) {
  const a = props.analytics;
  const f = fmt.value;
  const charts = useMemo(() => {
    const buckets = a.series.points.map((p) => p.bucket);
    return {
      buckets,
      points: [
        { label: "Issued", values: a.series.points.map((p) => p.pointsIssued), colour: "#1f6feb" },
        { label: "Redeemed", values: a.series.points.map((p) => p.pointsRedeemed), colour: "#b35900" },
      ],
      members: [
        { label: "New members", values: a.series.points.map((p) => p.newMembers), colour: "#2e7d32", bars: true },
        { label: "Orders", values: a.series.points.map((p) => p.orders), colour: "#6a3ab2" },
      ],
      revenue: [{ label: "Revenue", values: a.series.points.map((p) => Number(p.revenue)), colour: "#0b7285", bars: true }],
      npsMonths: a.npsTrend.map((m) => m.month),
      nps: [{ label: "NPS", values: a.npsTrend.map((m) => m.score), colour: "#c2255c" }],
    };
  }, [a]);
  const per = a.series.bucket === "day" ? "day" : "month";
  return (
    <div class="charts">
      <Chart title={`Points issued and redeemed per ${per}`} buckets={charts.buckets} series={charts.points} format={f.number} />
      <Chart title={`New members and orders per ${per}`} buckets={charts.buckets} series={charts.members} format={f.number} />
      <Chart title={`Revenue per ${per}`} buckets={charts.buckets} series={charts.revenue} format={(v) => f.decimal(v.toFixed(2))} />
      <Chart title="NPS by month (last 12 months)" buckets={charts.npsMonths} series={charts.nps} format={String} range={[-100, 100]} />
    </div>
  );
}

export function Overview() {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [applied, setApplied] = useState({ from: "", to: "" });
  const exports = useAction();
  const query = new URLSearchParams();
  if (applied.from) query.set("from", applied.from);
  if (applied.to) query.set("to", applied.to);
  const search = query.toString();
  const loaded = useLoad(() => api<Analytics>(`/v1/analytics${search ? `?${search}` : ""}`), [search]);
  const a = loaded.data;
  // The inputs show the period the figures are for, the default one included.
  useEffect(() => {
    if (!a) return;
    setFrom((value) => value || a.period.from);
    setTo((value) => value || a.period.to);
  }, [a]);

  const exportCsv = (name: "customers" | "ledger") => exports.run(() => download(`/v1/exports/${name}.csv`, `${name}.csv`));

  return (
    <>
      <form
        class="period"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ from, to });
        }}
      >
        <div class="field">
          <label for="period-from">From</label>
          <input id="period-from" type="date" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="period-to">To</label>
          <input id="period-to" type="date" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <button type="submit">Show period</button>
        {a && (
          <p class="hint">
            Showing {a.period.from} to {a.period.to} (UTC).
          </p>
        )}
      </form>
      <ErrorNotice error={loaded.error} />
      {loaded.loading && !a && <p role="status">Loading figures…</p>}
      {a && (
        <>
          <section aria-labelledby="figures-title">
            <h2 id="figures-title">Figures</h2>
            <dl class="figures">
              {figuresOf(a).map((figure) => (
                <div class="figure" key={figure.label}>
                  <dt>{figure.label}</dt>
                  <dd>
                    <span class="value">{figure.value}</span>
                    <span class="help">{figure.help}</span>
                  </dd>
                </div>
              ))}
            </dl>
          </section>
          <section aria-labelledby="charts-title">
            <h2 id="charts-title">Trends</h2>
            <Charts analytics={a} />
          </section>
          <section aria-labelledby="risk-title">
            <h2 id="risk-title">Members at risk</h2>
            {a.atRisk.length === 0 ? (
              <p>No member is overdue against their own order rhythm.</p>
            ) : (
              <DataTable
                caption={
                  <>
                    Members whose time since their last order exceeds 1.5 times their usual gap, most overdue first
                    {a.atRiskCount > a.atRisk.length ? ` (${a.atRisk.length} of ${a.atRiskCount})` : ""}.
                  </>
                }
                columns={["Member", "Orders", "Usual gap (days)", "Since last order (days)", "Overdue by (days)"]}
              >
                {a.atRisk.map((m) => (
                  <tr key={m.customerId}>
                    <th scope="row">
                      <MemberLink id={m.customerId} firstName={m.firstName} />
                    </th>
                    <td>{m.orders}</td>
                    <td>{m.cadenceDays}</td>
                    <td>{m.daysSinceLastOrder}</td>
                    <td>{m.overdueDays}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
        </>
      )}
      <section aria-labelledby="exports-title">
        <h2 id="exports-title">Exports</h2>
        <p>CSV files of all members and of the whole ledger, for spreadsheets and accounting.</p>
        <div class="actions">
          <button type="button" onClick={() => exportCsv("customers")}>
            Download members (CSV)
          </button>
          <button type="button" onClick={() => exportCsv("ledger")}>
            Download ledger (CSV)
          </button>
        </div>
        <ErrorNotice error={exports.error} />
      </section>
    </>
  );
}
