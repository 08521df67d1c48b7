// Files the API serves to a signed-in user only (exports, PDFs): fetched
// with the session's token, then saved under `name`. `false` when the
// platform refused (the caller says so).
import { authFetch } from "./api/client";

export async function download(path: string, name: string): Promise<boolean> {
  const r = await authFetch(path);
  if (!r.ok) return false;
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
  return true;
}
