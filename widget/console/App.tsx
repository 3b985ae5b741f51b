/** The console's shell: sign-in, then a navigation and one page at a time (hash routes). */
import { useEffect, useRef } from "preact/hooks";
import { embedded } from "./api";
import { ChallengesPage } from "./ChallengesPage";
import { CustomersPage } from "./CustomersPage";
import { DataRequestsPage } from "./DataRequestsPage";
import { InstallPage } from "./InstallPage";
import { Overview } from "./Overview";
import { ProgramPage } from "./ProgramPage";
import { RewardsPage } from "./RewardsPage";
import { SignIn } from "./SignIn";
import { embeddedProblem, type Page, route, shop, shopifyNotice, signOut } from "./state";

const TITLES: Record<Page, string> = {
  overview: "Overview",
  program: "Program",
  rewards: "Rewards",
  challenges: "Challenges",
  customers: "Customers",
  install: "Install",
  "data-requests": "Data requests",
};

function Content() {
  const { page, param } = route.value;
  switch (page) {
    case "program":
      return <ProgramPage />;
    case "rewards":
      return <RewardsPage />;
    case "challenges":
      return <ChallengesPage />;
    case "customers":
      return <CustomersPage customerId={param} />;
    case "install":
      return <InstallPage />;
    case "data-requests":
      return <DataRequestsPage />;
    default:
      return <Overview />;
  }
}

export function App() {
  const current = shop.value;
  const page = route.value.page;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = current ? `${TITLES[page]} · ${current.name} · Laurel` : "Laurel console";
    // Moving to another page moves focus to its heading, as a page load would.
    if (current) heading.current?.focus();
  }, [page, current]);

  if (!current) return embedded() ? <EmbeddedStart /> : <SignIn />;
  // Data requests come from Shopify's privacy webhooks: only Shopify shops have them.
  const pages = (Object.keys(TITLES) as Page[]).filter((p) => p !== "data-requests" || current.platform === "shopify");
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Laurel</span>
        <span class="shop-name">{current.name}</span>
        {!embedded() && (
          <button type="button" class="link" onClick={() => signOut()}>
            Sign out
          </button>
        )}
      </header>
      <nav aria-label="Console">
        <ul>
          {pages.map((p) => (
            <li key={p}>
              <a
                href={`#/${p}`}
                aria-current={p === page ? "page" : undefined}
              >
                {TITLES[p]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        {shopifyNotice.value && (
          <p class="notice error" role="alert">
            {shopifyNotice.value}
          </p>
        )}
        <h1 tabIndex={-1} ref={heading}>
          {TITLES[page]}
        </h1>
        <Content />
      </main>
    </div>
  );
}

/** Inside the Shopify admin, before the shop is known: opening, or what the merchant must do. */
function EmbeddedStart() {
  return (
    <main class="sign-in" id="main">
      <h1>Laurel</h1>
      {embeddedProblem.value ? (
        <p class="notice error" role="alert">
          {embeddedProblem.value}
        </p>
      ) : (
        <p role="status">Opening Laurel…</p>
      )}
    </main>
  );
}
