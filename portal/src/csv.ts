// A list as a CSV file the way the platform's own exports are written:
// `;`-separated, UTF-8 with a BOM (Excel opens it in Russian locales).
import { saveBlob } from "./download";

export function toCsv(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => {
    const s = String(v);
    return /[;"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return "\uFEFF" + [header, ...rows].map((r) => r.map(cell).join(";")).join("\n") + "\n";
}

export function saveCsv(name: string, text: string): void {
  saveBlob(new Blob([text], { type: "text/csv;charset=utf-8" }), name);
}
