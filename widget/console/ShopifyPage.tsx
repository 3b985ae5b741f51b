/**
 * Shopify (Shopify shops only): whether Laurel can reach the store and what to do when it cannot;
 * the daily reconciliation's runs (orders whose webhooks never came, credited), with "Check now";
 * and the customers' data requests, each export to download and send to the customer (Shopify
 * discards webhook answers, so Laurel keeps them here).
 */
import { useState } from "preact/hooks";
import type { DataRequestList, ReconciliationRuns } from "../../worker/contract/types";
import { api } from "./api";
import { fmt } from "./state";
import { DataTable, ErrorNotice, Status, useAction, useLoad } from "./ui";

type DataRequest = DataRequestList["requests"][number];
interface Connection {
  shopify: { status: string; domain: string | null; tokenExpiresAt: string | null; message: string };
}

function download(request: DataRequest) {
  const body = JSON.stringify(request.export ?? { customerId: request.customerId, held: "nothing" }, null, 2);
  const url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `data-request-${request.customerId}-${request.requestedAt.slice(0, 10)}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ConnectionSection() {
  const connection = useLoad(() => api<Connection>("/v1/shopify/connection"), []);
  const shopify = connection.data?.shopify;
  return (
    <section aria-labelledby="connection-title">
      <h2 id="connection-title">Connection</h2>
      <ErrorNotice error={connection.error} />
      {shopify && (
        <p class={shopify.status === "connected" ? "" : "notice error"} role={shopify.status === "connected" ? undefined : "alert"}>
          {shopify.status === "connected" ? `Connected to ${shopify.domain}.` : shopify.message}
        </p>
      )}
    </section>
  );
}

function ReconciliationSection() {
  const [version, setVersion] = useState(0);
  const runs = useLoad(() => api<ReconciliationRuns>("/v1/shopify/reconciliations"), [version]);
  const check = useAction();
  const [status, setStatus] = useState("");
  const f = fmt.value;
  return (
    <section aria-labelledby="reconciliation-title">
      <h2 id="reconciliation-title">Missed orders</h2>
      <p>
        Every day Laurel reads the store's orders of the last day and credits those whose webhook never arrived (refunds and
        cancellations too). Nothing is ever credited twice.
      </p>
      <button
        type="button"
        disabled={check.busy}
        onClick={() =>
          check.run(async () => {
            const { run } = await api<{ run: ReconciliationRuns["runs"][number] }>("/v1/shopify/reconciliations", { method: "POST" });
            setStatus(run.error ?? `Checked ${run.orders} orders: ${run.credited} credited.`);
            setVersion((v) => v + 1);
          })
        }
      >
        {check.busy ? "Checking…" : "Check now"}
      </button>
      <Status>{status}</Status>
      <ErrorNotice error={check.error ?? runs.error} />
      {(runs.data?.runs.length ?? 0) > 0 && (
        <DataTable caption="Last runs" columns={["Ran", "Orders read", "Credited", "Points", "Result"]} testId="reconciliations">
          {runs.data!.runs.map((run) => (
            <tr key={run.id}>
              <td>{f.date(run.ranAt)}</td>
              <td>{f.number(run.orders)}</td>
              <td>{f.number(run.credited)}</td>
              <td>{f.signed(run.points)}</td>
              <td>{run.error ?? (run.skipped ? `${run.skipped} could not be applied` : "OK")}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

function DataRequestsSection() {
  const list = useLoad(() => api<DataRequestList>("/v1/data-requests"), []);
  const f = fmt.value;
  const requests = list.data?.requests ?? [];
  return (
    <section aria-labelledby="data-requests-title">
      <h2 id="data-requests-title">Data requests</h2>
      <p>
        When a customer asks your store for their data, Shopify tells Laurel and Laurel keeps what it holds about them here.
        Download each export and send it to the customer. A customer's exports are erased with the rest of their data.
      </p>
      <ErrorNotice error={list.error} />
      {list.loading && <p role="status">Loading…</p>}
      {!list.loading && !list.error && requests.length === 0 && <p>No data requests yet.</p>}
      {requests.length > 0 && (
        <DataTable caption="Data requests, newest first" columns={["Requested", "Customer", "Laurel held", "Export"]} testId="data-requests">
          {requests.map((request) => (
            <tr key={request.id}>
              <td>{f.date(request.requestedAt)}</td>
              <td>
                <code>{request.customerId}</code>
              </td>
              <td>{request.export === null ? "Nothing" : "Member data"}</td>
              <td>
                <button type="button" onClick={() => download(request)} aria-label={`Download the export for customer ${request.customerId}`}>
                  Download
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

export function ShopifyPage() {
  return (
    <>
      <ConnectionSection />
      <ReconciliationSection />
      <DataRequestsSection />
    </>
  );
}
