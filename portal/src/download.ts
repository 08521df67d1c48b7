// Files the API serves to a signed-in user only (exports, PDFs): fetched
// with the session's token, then saved under `name`. `false` when the
// platform refused (the caller says so).
import { authFetch } from "./api/client";

export async function download(path: string, name: string): Promise<boolean> {
  const r = await authFetch(path);
  if (!r.ok) return false;
  saveBlob(await r.blob(), name);
  return true;
}

// Saves data the page holds as a file named `name`.
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
