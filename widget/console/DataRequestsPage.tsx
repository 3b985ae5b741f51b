/**
 * Data requests: every customers/data_request Shopify sent, with what Laurel held about the
 * customer at that moment. Shopify discards webhook answers, so the store owner downloads each
 * export here and sends it to the customer (within Shopify's 30 days).
 */
import type { DataRequestList } from "../../worker/contract/types";
import { api } from "./api";
import { fmt } from "./state";
import { DataTable, ErrorNotice, useLoad } from "./ui";

type DataRequest = DataRequestList["requests"][number];

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

export function DataRequestsPage() {
  const list = useLoad(() => api<DataRequestList>("/v1/data-requests"), []);
  const f = fmt.value;
  const requests = list.data?.requests ?? [];
  return (
    <>
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
    </>
  );
}
