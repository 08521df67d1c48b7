import type { components } from "../api/schema";
import { t } from "../i18n";

export function Home({ me }: { me: components["schemas"]["Me"] | null }) {
  if (!me) return <p>{t.loading}</p>;
  const name = me.user?.display_name || me.user?.login || "";
  return (
    <section>
      <h1>{t.home.greeting(name)}</h1>
      <h2>{t.home.yourRoles}</h2>
      <ul>
        {(me.user?.grants ?? []).map((g) => (
          <li key={g.id}>{t.roles[g.role ?? ""] ?? g.role}</li>
        ))}
      </ul>
    </section>
  );
}
