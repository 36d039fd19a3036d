// Grafana's "multi" tooltip for uPlot (which has none of its own): on hover, the time under the cursor
// and every series' value there, highest first, in the series' own units.
import type uPlot from 'uplot';

export interface TooltipSeries {
  name: string;
  color: string;
  /** The series' own values (not stacked sums), in the plot's x order. */
  values: Array<number | null | undefined>;
  format(v: number): string;
}

export function tooltipPlugin(series: TooltipSeries[], formatTime: (ms: number) => string): uPlot.Plugin {
  const box = document.createElement('div');
  box.className = 'chart-tooltip';
  box.hidden = true;
  return {
    hooks: {
      init: (u) => {
        u.over.append(box);
      },
      setCursor: (u) => {
        const idx = u.cursor.idx;
        const left = u.cursor.left ?? -1;
        if (idx === null || idx === undefined || left < 0) {
          box.hidden = true;
          return;
        }
        const rows = series
          .map((s) => ({ s, v: s.values[idx] }))
          .filter((r): r is { s: TooltipSeries; v: number } => typeof r.v === 'number')
          .sort((a, b) => b.v - a.v);
        const head = document.createElement('div');
        head.className = 'chart-tooltip-time';
        head.textContent = formatTime(u.data[0][idx]!);
        box.replaceChildren(
          head,
          ...rows.map(({ s, v }) => {
            const row = document.createElement('div');
            const sw = document.createElement('span');
            sw.className = 'swatch';
            sw.style.background = s.color;
            const value = document.createElement('b');
            value.textContent = s.format(v);
            row.append(sw, document.createTextNode(`${s.name} `), value);
            return row;
          }),
        );
        box.hidden = false;
        // beside the cursor, on the side with room
        const width = u.over.clientWidth;
        const onLeft = left > width / 2;
        box.style.left = onLeft ? '' : `${left + 12}px`;
        box.style.right = onLeft ? `${width - left + 12}px` : '';
        box.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 8)}px`;
      },
    },
  };
}
