// The shell: sign-in, the navigation built from the user's roles, and the
// screens behind hash routes (`#/catalog`), which a static server needs
// no rewrite rules for.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, signOut } from "./api/client";
import type { components } from "./api/schema";
import { t } from "./i18n";
import { navigation } from "./nav";
import { current, onChange } from "./session";
import { Login } from "./screens/login";
import { Home } from "./screens/home";
import { Catalog } from "./screens/catalog";
import { Applications } from "./screens/applications";
import { Documents } from "./screens/documents";
import { Imports } from "./screens/imports";
import { Completions } from "./screens/completions";
import { Quality } from "./screens/quality";
import { Windows } from "./screens/windows";
import { PendingRecords } from "./screens/records";
import { Candidates } from "./screens/candidates";
import { Programs } from "./screens/programs";
import { Review } from "./screens/review";
import { Expert } from "./screens/expert";
import { Council } from "./screens/council";
import { CampaignScreen } from "./screens/calendar";
import { Apply } from "./screens/apply";
import { Shortlist } from "./screens/shortlist";
import { Allocation } from "./screens/allocation";
import { OperatorApplications } from "./screens/enrollment";
import { Dashboard } from "./screens/dashboard";

type Me = components["schemas"]["Me"];

function route(): string {
  return location.hash.replace(/^#/, "") || "/";
}

export function App() {
  const [path, setPath] = useState(route());
  const [signedIn, setSignedIn] = useState(current() !== null);
  const [expired, setExpired] = useState(false);
  const [me, setMe] = useState<Me | null>(null);

  useEffect(() => {
    const onHash = () => setPath(route());
    addEventListener("hashchange", onHash);
    const off = onChange((s, wasExpired) => {
      setSignedIn(s !== null);
      setExpired(wasExpired);
    });
    return () => {
      removeEventListener("hashchange", onHash);
      off();
    };
  }, []);

  useEffect(() => {
    if (!signedIn) {
      setMe(null);
      return;
    }
    api.GET("/api/v1/me").then(({ data }) => setMe(data ?? null));
  }, [signedIn]);

  const grants = useMemo(() => me?.user?.grants ?? [], [me]);
  const items = navigation(signedIn ? grants : []);
  const userId = me?.user?.id ?? "";
  const educator = grants.some((g) => g.role === "educator");
  const screen = () => {
    if (path === "/catalog") return <Catalog educator={educator} />;
    if (!signedIn) return <Login expired={expired} />;
    // The screens below read the user's roles: not before they are known.
    if (!me) return <p>{t.loading}</p>;
    if (path === "/applications") return <Applications />;
    if (path === "/documents") return <Documents />;
    if (path === "/imports") return <Imports grants={grants} />;
    if (path === "/completions") return <Completions grants={grants} />;
    if (path === "/quality") return <Quality grants={grants} />;
    if (path === "/windows") return <Windows />;
    if (path === "/records") return <PendingRecords grants={grants} />;
    if (path === "/candidates") return <Candidates grants={grants} />;
    if (path === "/programs") return <Programs grants={grants} />;
    if (path === "/review") return <Review />;
    if (path === "/expert") return <Expert userId={userId} />;
    if (path === "/council") return <Council grants={grants} userId={userId} />;
    if (path === "/campaign") return <CampaignScreen />;
    if (path === "/allocation") return <Allocation grants={grants} />;
    if (path === "/enrollment") return <OperatorApplications />;
    if (path === "/dashboard")
      return <Dashboard regional={grants.some((g) => g.role === "regional_operator" || g.role === "ministry")} />;
    if (path === "/shortlist") return <Shortlist userId={userId} />;
    if (path.startsWith("/apply/"))
      return <Apply program={decodeURIComponent(path.slice("/apply/".length))} userId={userId} />;
    return <Home me={me} />;
  };

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          // The hash is the router's: move the focus without changing it.
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        {t.skipToContent}
      </a>
      <header>
        <span class="brand">{t.appTitle}</span>
        <nav aria-label={t.appTitle}>
          <ul>
            {items.map((i) => (
              <li key={i.path}>
                <a href={`#${i.path}`} aria-current={path === i.path ? "page" : undefined}>
                  {i.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {signedIn && (
          <button type="button" class="link" onClick={() => signOut()}>
            {t.signOut}
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {screen()}
      </main>
    </>
  );
}
