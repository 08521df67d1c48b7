// Horizontal bar charts in plain SVG (no chart library: nothing to
// download, readable on a phone). Each chart carries its numbers as a
// table too, for screen readers and for copying.
import { t } from "./i18n";

export interface Bar {
  label: string;
  value: number;
  /** Drawn in the warning colour (a gap, a shortfall). */
  alert?: boolean;
}

const ROW = 28;
const LABEL_WIDTH = 270;
const WIDTH = 640;

export function BarChart({ title, bars, unit = "" }: { title: string; bars: Bar[]; unit?: string }) {
  if (bars.length === 0) return null;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const plot = WIDTH - LABEL_WIDTH - 60;
  const height = bars.length * ROW + 8;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={title} preserveAspectRatio="xMinYMin meet">
        {bars.map((b, i) => {
          const y = i * ROW + 4;
          const w = Math.max(1, (b.value / max) * plot);
          return (
            <g key={i}>
              <text x={LABEL_WIDTH - 8} y={y + ROW / 2 + 4} text-anchor="end" font-size="13">
                {/* Long names shortened to fit; the whole one on hover and in the table. */}
                <title>{b.label}</title>
                {b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label}
              </text>
              <rect x={LABEL_WIDTH} y={y + 4} width={w} height={ROW - 10} fill={b.alert ? "#b35c00" : "#0b3d91"} />
              <text x={LABEL_WIDTH + w + 6} y={y + ROW / 2 + 4} font-size="13">
                {b.value}
                {unit}
              </text>
            </g>
          );
        })}
      </svg>
      <details>
        <summary>{t.chart.numbers}</summary>
        <table>
          <tbody>
            {bars.map((b, i) => (
              <tr key={i}>
                <th scope="row">
                  {b.alert && "⚠ "}
                  {b.label}
                </th>
                <td>
                  {b.value}
                  {unit}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
