import { useState } from "preact/hooks";
import { api } from "../api/client";
import { t } from "../i18n";
import { save } from "../session";

export function Login({ expired }: { expired: boolean }) {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");

  const submit = async (e: Event) => {
    e.preventDefault();
    setError("");
    const { data } = await api.POST("/api/v1/auth/login", { body: { login, password } });
    if (!data?.access_token) {
      setError(t.signInFailed);
      return;
    }
    save({ access: data.access_token, refresh: data.refresh_token ?? "" });
  };

  return (
    <form class="card narrow" onSubmit={submit}>
      <h1>{t.signIn}</h1>
      {expired && <p role="alert">{t.sessionExpired}</p>}
      <label>
        {t.login}
        <input name="login" autoComplete="username" value={login} onInput={(e) => setLogin(e.currentTarget.value)} required />
      </label>
      <label>
        {t.password}
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          required
        />
      </label>
      {error && <p role="alert">{error}</p>}
      <button type="submit">{t.signInButton}</button>
    </form>
  );
}
