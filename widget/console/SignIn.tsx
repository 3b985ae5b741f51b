/** Sign-in: the secret key is sent once for a console session and never stored by the browser. */
import { useState } from "preact/hooks";
import { startSession } from "./api";
import { signIn, signInNotice } from "./state";
import { ErrorNotice } from "./ui";

export function SignIn() {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await startSession(key.trim());
      // The key leaves the component's state before anything else renders.
      setKey("");
      signIn(session);
    } catch (err) {
      setKey("");
      setError(err);
      setBusy(false);
    }
  }

  return (
    <main class="sign-in" id="main">
      <h1>Laurel console</h1>
      {signInNotice.value && (
        <p class="notice" role="status">
          {signInNotice.value}
        </p>
      )}
      <form onSubmit={submit} autoComplete="off">
        <div class="field">
          <label for="secret-key">Secret key</label>
          <input
            id="secret-key"
            name="laurel-secret-key"
            type="password"
            required
            autoComplete="off"
            spellcheck={false}
            value={key}
            aria-describedby="secret-key-hint"
            aria-invalid={error ? "true" : undefined}
            onInput={(event) => setKey((event.currentTarget as HTMLInputElement).value)}
          />
          <span class="hint" id="secret-key-hint">
            The sk_… key you received when the shop was created. It is exchanged for a 30-minute session and not
            kept by this browser.
          </span>
        </div>
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
