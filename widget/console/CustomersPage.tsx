/**
 * Customers: search, a member's profile with their ledger, badges and referrals, balance
 * adjustments with a reason (idempotent: one key per adjustment, kept across retries), and the
 * GDPR export and erasure.
 */
import type { z } from "@hono/zod-openapi";
import { useState } from "preact/hooks";
import type { MemberEngagement } from "../../worker/contract/analytics";
import type { CustomerView, MerchantLedgerEntry } from "../../worker/contract/merchant";
import type { RedemptionView } from "../../worker/contract/rewards";
import { api, ConsoleError, newKey } from "./api";
import { fmt, navigate } from "./state";
import {
  CardForm,
  counted,
  DataTable,
  ErrorNotice,
  fieldError,
  MemberLink,
  memberName,
  NumberField,
  Status,
  TextArea,
  useAction,
  useLoad,
} from "./ui";

type Customer = z.infer<typeof CustomerView>;
type Entry = z.infer<typeof MerchantLedgerEntry>;
type Redemption = z.infer<typeof RedemptionView>;

/** What the ledger's references point at, by id: so a row names the challenge, reward or friend. */
interface Names {
  challenges: Map<string, string>;
  redemptions: Map<string, Redemption>;
  referrals: Map<string, string>;
}

const REDEMPTION_STATUS: Record<string, string> = {
  issued: "Not used yet",
  used: "Used",
  void: "Voided",
  expired: "Expired",
};

/** A ledger row's reference in words: "Order 1001", "Challenge “Three's a habit”", "€5 off · code ABCD". */
function referenceText(entry: Entry, names: Names): string | null {
  const reference = entry.reference;
  if (!reference) return null;
  switch (entry.kind) {
    case "order":
    case "refund":
    case "cancel":
      return `Order ${reference}`;
    case "challenge": {
      const name = names.challenges.get(reference);
      return name ? `Challenge “${name}”` : "A challenge since deleted";
    }
    case "redemption":
    case "redemption_reversal": {
      const redemption = names.redemptions.get(reference);
      if (!redemption) return "A reward";
      return [redemption.rewardName ?? "A reward since deleted", redemption.code ? `code ${redemption.code}` : null].filter(Boolean).join(" · ");
    }
    case "referral": {
      const friend = names.referrals.get(reference);
      return friend ? `Referred ${friend}` : "A referral";
    }
    default:
      return reference;
  }
}

const KINDS: Record<string, string> = {
  order: "Order",
  refund: "Refund",
  cancel: "Order cancelled",
  signup: "Signed up",
  birthday: "Birthday",
  review: "Review",
  social: "Social",
  challenge: "Challenge",
  referral: "Referral",
  nps: "NPS answer",
  custom: "Custom event",
  redemption: "Reward redeemed",
  redemption_reversal: "Redemption voided",
  adjustment: "Adjustment",
  expiry: "Expired",
};

const REFERRAL_STATUS: Record<string, string> = {
  claimed: "Claimed, waiting for a first order",
  completed: "Completed",
  rejected: "Rejected",
  reversed: "Reversed (order refunded)",
};

const memberPath = (id: string) => `/v1/customers/${encodeURIComponent(id)}`;

function CustomerList() {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [pages, setPages] = useState<string[]>([""]);
  const cursor = pages[pages.length - 1]!;
  const list = useLoad(() => {
    const params = new URLSearchParams({ limit: "25" });
    if (search) params.set("q", search);
    if (cursor) params.set("cursor", cursor);
    return api<{ customers: Customer[]; nextCursor: string | null }>(`/v1/customers?${params}`);
  }, [search, cursor]);

  return (
    <>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          setSearch(q.trim());
          setPages([""]);
        }}
      >
        <div class="field">
          <label for="customer-search">Search by id, email or first name</label>
          <input id="customer-search" type="search" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={list.error} />
      {list.data && list.data.customers.length === 0 && <p>No members found.</p>}
      {list.data && list.data.customers.length > 0 && (
        <DataTable
          caption={search ? `Members matching “${search}”` : "Members, newest first"}
          columns={["Member", "Email", "Balance", "Tier", "Orders", "Joined"]}
        >
          {list.data.customers.map((c) => (
            <tr key={c.id}>
              <th scope="row">
                <MemberLink id={c.id} firstName={c.firstName} />
              </th>
              <td>{c.email ?? "–"}</td>
              <td>{fmt.value.number(c.balance)}</td>
              <td>{c.tier ?? "–"}</td>
              <td>{c.orderCount}</td>
              <td>{fmt.value.date(c.createdAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <div class="actions">
        {pages.length > 1 && (
          <button type="button" onClick={() => setPages((p) => p.slice(0, -1))}>
            Previous page
          </button>
        )}
        {list.data?.nextCursor && (
          <button type="button" onClick={() => setPages((p) => [...p, list.data!.nextCursor!])}>
            Next page
          </button>
        )}
      </div>
    </>
  );
}

function Ledger(props: { customerId: string; version: number; names: Names }) {
  const [pages, setPages] = useState<Entry[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api<{ entries: Entry[]; nextCursor: string | null }>(`${memberPath(props.customerId)}/ledger?limit=50`);
    setPages([page.entries]);
    setNext(page.nextCursor);
    return page;
  }, [props.customerId, props.version]);
  const older = useAction();
  const entries = pages.flat();
  return (
    <section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger</h2>
      <ErrorNotice error={first.error ?? older.error} />
      {entries.length === 0 && !first.loading && <p>No entries yet.</p>}
      {entries.length > 0 && (
        <DataTable
          caption="Every change to the balance, newest first"
          columns={["When", "What", "Points", "Balance after", "Reference or reason"]}
        >
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{new Date(e.createdAt).toLocaleString()}</td>
              <td>{KINDS[e.kind] ?? e.kind}</td>
              <td class="number">{fmt.value.signed(e.delta)}</td>
              <td class="number">{fmt.value.number(e.balanceAfter)}</td>
              <td>
                {[referenceText(e, props.names), e.note, e.shortfall ? `${counted(e.shortfall, "point", "points")} could not be taken back` : null]
                  .filter(Boolean)
                  .join(" · ") || "–"}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {next && (
        <button
          type="button"
          onClick={() =>
            older.run(async () => {
              const page = await api<{ entries: Entry[]; nextCursor: string | null }>(
                `${memberPath(props.customerId)}/ledger?limit=50&cursor=${next}`,
              );
              setPages((p) => [...p, page.entries]);
              setNext(page.nextCursor);
            })
          }
        >
          Show older entries
        </button>
      )}
    </section>
  );
}

function AdjustmentForm(props: { customer: Customer; onStart: () => void; onDone: (balance: number) => void }) {
  const [points, setPoints] = useState<number | null>(null);
  const [note, setNote] = useState("");
  const [key, setKey] = useState(newKey);
  const { error, setError, busy, run } = useAction();
  return (
    <CardForm
      onSubmit={() => {
        // Whatever the last adjustment said is over once another one is asked for.
        props.onStart();
        if (!points) {
          setError(new ConsoleError("invalid_request", "Enter the points to add (or a negative number to remove).", 400, [{ path: "points", message: "a whole number other than 0" }]));
          return;
        }
        if (note.trim() === "") {
          setError(new ConsoleError("invalid_request", "Give a reason: it is kept in the ledger.", 400, [{ path: "note", message: "required" }]));
          return;
        }
        run(async () => {
          try {
            const result = await api<{ balance: number }>(`${memberPath(props.customer.id)}/adjustments`, {
              method: "POST",
              body: { points, note: note.trim() },
              key,
            });
            setPoints(null);
            setNote("");
            // The next adjustment is another request; a retry of this one would have reused the key.
            setKey(newKey());
            props.onDone(result.balance);
          } catch (err) {
            // Refused by the server: this request is over. A network failure keeps the key for a retry.
            if (err instanceof ConsoleError && err.status !== 0) setKey(newKey());
            throw err;
          }
        });
      }}
    >
      <h3>Adjust the balance</h3>
      <NumberField
        label="Points"
        hint="Negative to remove points. A removal the balance cannot cover is refused."
        integer
        value={points}
        optional
        error={fieldError(error, "points")}
        onValue={setPoints}
      />
      <TextArea label="Reason" hint="Kept in the ledger." maxLength={500} value={note} error={fieldError(error, "note")} onInput={setNote} />
      <ErrorNotice error={error} />
      <button type="submit" class="primary" disabled={busy || Boolean(props.customer.redactedAt)}>
        {busy ? "Saving…" : "Apply adjustment"}
      </button>
    </CardForm>
  );
}

function Profile(props: { customerId: string }) {
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState("");
  const privacy = useAction();
  const profile = useLoad(
    () => api<{ customer: Customer }>(memberPath(props.customerId)).then((r) => r.customer),
    [props.customerId, version],
  );
  const engagement = useLoad(
    () => api<MemberEngagement>(`/v1/console/customers/${encodeURIComponent(props.customerId)}/engagement`),
    [props.customerId, version],
  );
  const redemptions = useLoad(
    () => api<{ redemptions: Redemption[] }>(`${memberPath(props.customerId)}/redemptions`).then((r) => r.redemptions),
    [props.customerId, version],
  );
  const challenges = useLoad(() => api<{ challenges: { id: string; name: string }[] }>("/v1/challenges").then((r) => r.challenges), []);
  const names: Names = {
    challenges: new Map((challenges.data ?? []).map((ch) => [ch.id, ch.name])),
    redemptions: new Map((redemptions.data ?? []).map((r) => [r.id, r])),
    referrals: new Map((engagement.data?.referralsMade ?? []).map((r) => [r.id, r.refereeId ?? r.refereeEmail ?? "a friend"])),
  };
  const c = profile.data;
  const f = fmt.value;

  function exportData() {
    privacy.run(async () => {
      const data = await api<unknown>(`${memberPath(props.customerId)}/export`);
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `customer-${props.customerId}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  }

  function erase() {
    if (!confirm("Erase this member's personal data? Their balance and ledger amounts stay; this cannot be undone.")) return;
    privacy.run(async () => {
      await api(memberPath(props.customerId), { method: "DELETE" });
      setStatus("Personal data erased.");
      navigate("customers");
    });
  }

  return (
    <>
      <p>
        <a
          href="#/customers"
        >
          ← All members
        </a>
      </p>
      <Status>{status}</Status>
      <ErrorNotice error={profile.error ?? privacy.error} />
      {c && (
        <>
          <section aria-labelledby="profile-title">
            <h2 id="profile-title">{memberName(c.id, c.firstName)}</h2>
            {c.redactedAt && <p class="notice">Personal data erased on {f.date(c.redactedAt)}.</p>}
            <dl class="facts">
              <div>
                <dt>Balance</dt>
                <dd data-testid="member-balance">{f.number(c.balance)} points</dd>
              </div>
              <div>
                <dt>Lifetime points</dt>
                <dd>{f.number(c.lifetimePoints)}</dd>
              </div>
              <div>
                <dt>Tier</dt>
                <dd>{c.tier ?? "None"}</dd>
              </div>
              <div>
                <dt>Email</dt>
                <dd>{c.email ?? "–"}</dd>
              </div>
              <div>
                <dt>Birthday</dt>
                <dd>{c.birthday ?? "–"}</dd>
              </div>
              <div>
                <dt>Orders</dt>
                <dd>
                  {c.orderCount} · {f.decimal(c.totalSpent)} spent
                  {c.lastOrderAt ? ` · last ${f.date(c.lastOrderAt)}` : ""}
                </dd>
              </div>
              <div>
                <dt>Referral code</dt>
                <dd>
                  <code>{c.referralCode}</code>
                </dd>
              </div>
              <div>
                <dt>Member since</dt>
                <dd>{f.date(c.createdAt)}</dd>
              </div>
            </dl>
          </section>
          <AdjustmentForm
            customer={c}
            onStart={() => setStatus("")}
            onDone={(balance) => {
              setStatus(`Adjustment applied. The balance is now ${f.number(balance)} points.`);
              setVersion((v) => v + 1);
            }}
          />
          <section aria-labelledby="badges-title">
            <h2 id="badges-title">Badges</h2>
            <ErrorNotice error={engagement.error} />
            {engagement.data && engagement.data.badges.length === 0 && <p>No badges yet.</p>}
            {engagement.data && engagement.data.badges.length > 0 && (
              <ul class="badges">
                {engagement.data.badges.map((b) => (
                  <li key={b.challengeId}>
                    <strong>{b.badge}</strong> {b.name} · {f.date(b.earnedAt)}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="referrals-title">
            <h2 id="referrals-title">Referrals</h2>
            {engagement.data?.referredBy && (
              <p>
                Referred by <MemberLink id={engagement.data.referredBy.customerId} />{" "}
                ({REFERRAL_STATUS[engagement.data.referredBy.status] ?? engagement.data.referredBy.status}).
              </p>
            )}
            {engagement.data && engagement.data.referralsMade.length === 0 && <p>No referrals made.</p>}
            {engagement.data && engagement.data.referralsMade.length > 0 && (
              <DataTable columns={["Friend", "Status", "Claimed"]}>
                {engagement.data.referralsMade.map((r) => (
                  <tr key={r.id}>
                    <td>{r.refereeId ?? r.refereeEmail ?? "–"}</td>
                    <td>
                      {REFERRAL_STATUS[r.status] ?? r.status}
                      {r.rejectionReason ? ` (${r.rejectionReason.replace(/_/g, " ")})` : ""}
                    </td>
                    <td>{f.date(r.createdAt)}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
          <section aria-labelledby="codes-title">
            <h2 id="codes-title">Rewards redeemed</h2>
            <ErrorNotice error={redemptions.error} />
            {redemptions.data && redemptions.data.length === 0 && <p>No rewards redeemed yet.</p>}
            {redemptions.data && redemptions.data.length > 0 && (
              <DataTable columns={["Reward", "Code", "Points", "Status", "Redeemed"]} testId="member-redemptions">
                {redemptions.data.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">{r.rewardName ?? "A reward since deleted"}</th>
                    <td>{r.code ? <code>{r.code}</code> : "–"}</td>
                    <td class="number">{f.number(r.points)}</td>
                    <td>
                      {REDEMPTION_STATUS[r.status] ?? r.status}
                      {r.status === "used" && r.orderId ? ` on order ${r.orderId}` : ""}
                      {r.status === "issued" && r.expiresAt ? ` (valid until ${f.date(r.expiresAt)})` : ""}
                    </td>
                    <td>{f.date(r.createdAt)}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
          <Ledger customerId={c.id} version={version} names={names} />
          <section aria-labelledby="privacy-title">
            <h2 id="privacy-title">Privacy requests</h2>
            <div class="actions">
              <button type="button" onClick={exportData}>
                Download their data (JSON)
              </button>
              <button type="button" class="danger" onClick={erase} disabled={Boolean(c.redactedAt)}>
                Erase personal data
              </button>
            </div>
          </section>
        </>
      )}
    </>
  );
}

export function CustomersPage(props: { customerId: string | null }) {
  return props.customerId ? <Profile customerId={props.customerId} key={props.customerId} /> : <CustomerList />;
}
