// What the browser tests read from the built-in viewer's DOM: each panel's state, SQL and figures.
import type { Page } from 'playwright-core';

export interface PanelView {
  id: number;
  type: string;
  title: string;
  state: string;
  sql: string;
  text: string;
}

export interface StatView {
  field: string;
  value: string;
  text: string;
}

export async function renders(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __ragscope?: { renders: number[] } }).__ragscope?.renders.length ?? 0);
}

/** Waits until the view has finished one more render than `before` (every panel answered). */
export async function waitForRender(page: Page, before: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const r = (window as unknown as { __ragscope?: { renders: number[] } }).__ragscope?.renders.length ?? 0;
      return r > n && document.body.dataset.state === 'ready';
    },
    before,
    { timeout },
  );
}

export async function panels(page: Page): Promise<PanelView[]> {
  return page.$$eval('section.panel', (els) =>
    els.map((e) => ({
      id: Number((e as HTMLElement).dataset.panelId),
      type: (e as HTMLElement).dataset.type ?? '',
      title: e.querySelector('h2')?.textContent ?? '',
      state: (e as HTMLElement).dataset.state ?? '',
      sql: (e as HTMLElement).dataset.sql ?? '',
      text: (e.querySelector('.panel-body') as HTMLElement | null)?.innerText ?? '',
    })),
  );
}

export async function stat(page: Page, panelId: number): Promise<StatView[]> {
  return page.$$eval(`section.panel[data-panel-id="${panelId}"] .stat-value`, (els) =>
    els.map((e) => ({ field: (e as HTMLElement).dataset.field ?? '', value: (e as HTMLElement).dataset.value ?? '', text: e.textContent ?? '' })),
  );
}

export async function panelSql(page: Page, panelId: number): Promise<string> {
  return (await page.getAttribute(`section.panel[data-panel-id="${panelId}"]`, 'data-sql')) ?? '';
}

/** A time series panel as drawn: its canvas, the points it was given and how much of the canvas is painted. */
export interface TimeSeriesView {
  id: number;
  title: string;
  canvas: { width: number; height: number } | null;
  points: number;
  /** share of the canvas' pixels that are not transparent (axes, grid, lines, fills) */
  painted: number;
}

export async function timeSeriesCharts(page: Page): Promise<TimeSeriesView[]> {
  return page.$$eval('section.panel[data-type="timeseries"]', (els) =>
    els.map((e) => {
      const canvas = e.querySelector<HTMLCanvasElement>('.chart canvas');
      let painted = 0;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
        painted = n / (canvas.width * canvas.height);
      }
      return {
        id: Number((e as HTMLElement).dataset.panelId),
        title: e.querySelector('h2')?.textContent ?? '',
        canvas: canvas ? { width: canvas.getBoundingClientRect().width, height: canvas.getBoundingClientRect().height } : null,
        points: Number(e.querySelector<HTMLElement>('.chart')?.dataset.points ?? 0),
        painted,
      };
    }),
  );
}

/** The time axis a time series panel drew: each tick's instant and its label. */
export async function timeAxis(page: Page, panelId: number): Promise<Array<{ ms: number; label: string }>> {
  const chart = `section.panel[data-panel-id="${panelId}"] .chart`;
  // Both attributes in one read: a redraw (after a resize) between two reads pairs one drawing's ticks with
  // another's labels.
  const [rawTicks, rawLabels] = await page.$eval(chart, (c) => [c.getAttribute('data-time-ticks') ?? '', c.getAttribute('data-time-labels') ?? '']);
  const ticks = rawTicks.split('|').filter(Boolean).map(Number);
  const labels = rawLabels.split('|').filter(Boolean);
  if (ticks.length !== labels.length) throw new Error(`panel ${panelId}: ${ticks.length} ticks but ${labels.length} labels`);
  return ticks.map((ms, i) => ({ ms, label: labels[i]! }));
}

/**
 * How many canvas pixels of a panel have each color's RGB (± `tolerance` per channel, any alpha): a line or
 * bar of that color was drawn.
 */
export async function canvasColors(page: Page, panelId: number, colors: string[], tolerance = 6): Promise<number[]> {
  return page.$eval(
    `section.panel[data-panel-id="${panelId}"] .chart canvas`,
    (c, [colors, tolerance]) => {
      const canvas = c as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const rgb = (colors as string[]).map((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)));
      const counts = rgb.map(() => 0);
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 0) continue;
        rgb.forEach((c, j) => {
          if (Math.abs(px[i]! - c[0]!) <= (tolerance as number) && Math.abs(px[i + 1]! - c[1]!) <= (tolerance as number) && Math.abs(px[i + 2]! - c[2]!) <= (tolerance as number)) counts[j]!++;
        });
      }
      return counts;
    },
    [colors, tolerance] as const,
  );
}
