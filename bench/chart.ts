// A dependency-free SVG bar chart of the ratios (1.0 = the row's reference).
export interface Bar {
  label: string;
  ratio: number;
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderChart(bars: Bar[]): string {
  const labelWidth = 430;
  const barWidth = 420;
  const rowHeight = 22;
  const top = 30;
  const max = Math.max(1, ...bars.map((b) => b.ratio));
  const scale = barWidth / max;
  const height = top + bars.length * rowHeight + 30;
  const width = labelWidth + barWidth + 70;
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight;
    const w = Math.max(1, b.ratio * scale);
    const colour = b.label.startsWith("Latchkey") ? "#2b6cb0" : b.label.startsWith("ceiling") ? "#718096" : "#dd6b20";
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(b.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${colour}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 15}">${b.ratio.toFixed(3)}</text>`,
    ].join("");
  });
  const one = labelWidth + scale;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${labelWidth}" y="18" font-weight="bold">Throughput ratio to the reference measured in the same run (1.0 = reference)</text>
${rows.join("\n")}
<line x1="${one}" y1="${top}" x2="${one}" y2="${height - 25}" stroke="#333" stroke-dasharray="4 3"/>
<text x="${one}" y="${height - 10}" text-anchor="middle">1.0</text>
</svg>
`;
}
