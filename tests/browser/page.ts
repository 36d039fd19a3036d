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
