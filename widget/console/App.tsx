/** The console's shell: sign-in, then a navigation and one page at a time (hash routes). */
import { useEffect, useRef } from "preact/hooks";
import { ChallengesPage } from "./ChallengesPage";
import { CustomersPage } from "./CustomersPage";
import { InstallPage } from "./InstallPage";
import { Overview } from "./Overview";
import { ProgramPage } from "./ProgramPage";
import { RewardsPage } from "./RewardsPage";
import { SignIn } from "./SignIn";
import { type Page, route, shop, signOut } from "./state";

const TITLES: Record<Page, string> = {
  overview: "Overview",
  program: "Program",
  rewards: "Rewards",
  challenges: "Challenges",
  customers: "Customers",
  install: "Install",
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

  if (!current) return <SignIn />;
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Laurel</span>
        <span class="shop-name">{current.name}</span>
        <button type="button" class="link" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {(Object.keys(TITLES) as Page[]).map((p) => (
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
        <h1 tabIndex={-1} ref={heading}>
          {TITLES[page]}
        </h1>
        <Content />
      </main>
    </div>
  );
}
