import type { Panel } from '../api.js';

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Grafana's text panel in markdown mode. The dashboards' notes use inline code, bold, italics and links
 * only; this small converter (escape first, then those four forms) is all they need, where a markdown
 * library would add more to the bundle than the whole renderer.
 */
export function renderText(body: HTMLElement, panel: Panel): boolean {
  const md = String(panel.options?.content ?? '');
  const html = md
    .split(/\n{2,}/)
    .map((para) =>
      escape(para)
        .replace(/`([^`]+)`/g, '<code>$1</code>')
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/\*([^*]+)\*/g, '<em>$1</em>')
        .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+|\/[^)\s]*)\)/g, '<a href="$2">$1</a>'),
    )
    .map((p) => `<p>${p}</p>`)
    .join('');
  const div = document.createElement('div');
  div.className = 'text-panel';
  div.innerHTML = html;
  body.replaceChildren(div);
  return md.trim() !== '';
}
