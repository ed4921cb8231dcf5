import { formatNumber, type Spread } from './statistics';

export interface ChartSeries {
  name: string;
  color: string;
}

export interface ChartRow {
  label: string;
  /** One per series; undefined where the system did not produce it. */
  values: Array<Spread | undefined>;
}

export interface BarChart {
  title: string;
  /** Axis caption, e.g. `items/s (median; whiskers: min–max of the runs)`. */
  axis: string;
  series: ChartSeries[];
  rows: ChartRow[];
}

const WIDTH = 760;
const LABEL_WIDTH = 190;
const VALUE_ROOM = 70;
const PLOT_WIDTH = WIDTH - LABEL_WIDTH - VALUE_ROOM - 20;
const BAR_HEIGHT = 14;
const ROW_GAP = 10;
const TOP = 48;
const AXIS_ROOM = 44;

/**
 * A horizontal grouped bar chart written by hand: plain SVG with a white background, so it renders
 * the same on GitHub (light or dark) and needs no browser or chart library to produce.
 */
export function barChartSvg(chart: BarChart): string {
  const rowHeight = chart.series.length * BAR_HEIGHT + ROW_GAP;
  const height = TOP + chart.rows.length * rowHeight + AXIS_ROOM;
  const largest = Math.max(1e-9, ...chart.rows.flatMap((row) => row.values.map((v) => v?.max ?? 0)));
  const { max, step } = niceScale(largest);
  const x = (value: number) => LABEL_WIDTH + (value / max) * PLOT_WIDTH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold" fill="#222">${escape(chart.title)}</text>`,
  ];
  if (chart.series.length > 1) {
    chart.series.forEach((series, i) => {
      const lx = LABEL_WIDTH + i * 110;
      parts.push(`<rect x="${lx}" y="29" width="12" height="12" fill="${series.color}"/>`, `<text x="${lx + 16}" y="39" fill="#333">${escape(series.name)}</text>`);
    });
  }
  const plotBottom = TOP + chart.rows.length * rowHeight;
  for (let tick = 0; tick <= max + step / 2; tick += step) {
    parts.push(
      `<line x1="${x(tick)}" y1="${TOP - 4}" x2="${x(tick)}" y2="${plotBottom}" stroke="#e3e3e3"/>`,
      `<text x="${x(tick)}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${formatNumber(tick)}</text>`,
    );
  }
  chart.rows.forEach((row, r) => {
    const top = TOP + r * rowHeight;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${top + (chart.series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end" fill="#222">${escape(row.label)}</text>`);
    row.values.forEach((value, s) => {
      const y = top + s * BAR_HEIGHT;
      if (!value) {
        parts.push(`<text x="${LABEL_WIDTH + 4}" y="${y + BAR_HEIGHT - 3}" fill="#999">not measured</text>`);
        return;
      }
      const mid = y + (BAR_HEIGHT - 2) / 2;
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(1, x(value.median) - LABEL_WIDTH)}" height="${BAR_HEIGHT - 2}" fill="${chart.series[s].color}"/>`,
        `<line x1="${x(value.min)}" y1="${mid}" x2="${x(value.max)}" y2="${mid}" stroke="#222"/>`,
        `<line x1="${x(value.min)}" y1="${mid - 4}" x2="${x(value.min)}" y2="${mid + 4}" stroke="#222"/>`,
        `<line x1="${x(value.max)}" y1="${mid - 4}" x2="${x(value.max)}" y2="${mid + 4}" stroke="#222"/>`,
        `<text x="${x(value.max) + 6}" y="${y + BAR_HEIGHT - 3}" fill="#222">${formatNumber(value.median)}</text>`,
      );
    });
  });
  parts.push(`<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${plotBottom + 36}" text-anchor="middle" fill="#555">${escape(chart.axis)}</text>`, '</svg>');
  return `${parts.join('\n')}\n`;
}

/** An axis end of 1, 2 or 5 × 10^k above `largest`, in about five steps. */
function niceScale(largest: number): { max: number; step: number } {
  const rough = largest / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) as number;
  return { max: Math.ceil(largest / step) * step, step };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
