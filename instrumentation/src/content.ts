// Conversion of provider request/response shapes to the GenAI semconv message JSON
// (`gen_ai.input.messages` / `gen_ai.output.messages`: [{ role, parts: [{ type, content, ... }], finish_reason? }]).
// Only called when content capture is on. Redaction happens later, in RagscopeSpanProcessor, for every span.

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface SemconvPart {
  type: string;
  [key: string]: unknown;
}
export interface SemconvMessage {
  role: string;
  parts: SemconvPart[];
  finish_reason?: string;
}

function partsOf(content: unknown): SemconvPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', content }] : [];
  if (!Array.isArray(content)) return [];
  const parts: SemconvPart[] = [];
  for (const p of content as any[]) {
    if (!p || typeof p !== 'object') continue;
    switch (p.type) {
      case 'text':
      case 'input_text':
      case 'output_text':
        parts.push({ type: 'text', content: String(p.text ?? '') });
        break;
      case 'refusal':
        parts.push({ type: 'refusal', content: String(p.refusal ?? '') });
        break;
      case 'image_url':
      case 'input_image':
        // Image data (often base64) is neither text nor small: record that there was one.
        parts.push({ type: 'blob', modality: 'image' });
        break;
      case 'input_audio':
        parts.push({ type: 'blob', modality: 'audio' });
        break;
      default:
        parts.push({ type: String(p.type ?? 'unknown') });
    }
  }
  return parts;
}

/** Chat Completions `messages` → semconv input messages. */
export function chatInputMessages(messages: unknown): SemconvMessage[] {
  if (!Array.isArray(messages)) return [];
  return messages.map((m: any) => {
    const role = String(m?.role ?? 'user');
    if (role === 'tool') {
      return {
        role,
        parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: typeof m.content === 'string' ? m.content : partsOf(m.content) }],
      };
    }
    const parts = partsOf(m?.content);
    if (Array.isArray(m?.tool_calls)) {
      for (const tc of m.tool_calls) {
        parts.push({ type: 'tool_call', id: tc?.id, name: tc?.function?.name ?? tc?.custom?.name, arguments: tc?.function?.arguments ?? tc?.custom?.input });
      }
    }
    return { role, parts };
  });
}

/** Chat Completions `choices` (non-streamed) → semconv output messages. */
export function chatOutputMessages(choices: unknown): SemconvMessage[] {
  if (!Array.isArray(choices)) return [];
  return choices.map((c: any) => {
    const msg = c?.message ?? {};
    const parts = partsOf(msg.content);
    if (msg.refusal) parts.push({ type: 'refusal', content: String(msg.refusal) });
    if (Array.isArray(msg.tool_calls)) {
      for (const tc of msg.tool_calls) {
        parts.push({ type: 'tool_call', id: tc?.id, name: tc?.function?.name ?? tc?.custom?.name, arguments: tc?.function?.arguments ?? tc?.custom?.input });
      }
    }
    return { role: String(msg.role ?? 'assistant'), parts, finish_reason: c?.finish_reason ?? undefined };
  });
}

/** Responses API `input` (+ `instructions` handled by the caller) → semconv input messages. */
export function responsesInputMessages(input: unknown): SemconvMessage[] {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }];
  if (!Array.isArray(input)) return [];
  const out: SemconvMessage[] = [];
  for (const item of input as any[]) {
    if (!item || typeof item !== 'object') continue;
    if (item.type === 'function_call') {
      out.push({ role: 'assistant', parts: [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: item.arguments }] });
    } else if (item.type === 'function_call_output') {
      out.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: item.call_id, response: item.output }] });
    } else if ('role' in item) {
      out.push({ role: String(item.role), parts: partsOf(item.content) });
    }
  }
  return out;
}

/** Responses API `output` items → semconv output messages (one assistant message). */
export function responsesOutputMessages(output: unknown, finishReason?: string): SemconvMessage[] {
  if (!Array.isArray(output)) return [];
  const parts: SemconvPart[] = [];
  for (const item of output as any[]) {
    if (!item || typeof item !== 'object') continue;
    if (item.type === 'message') parts.push(...partsOf(item.content));
    else if (item.type === 'function_call') parts.push({ type: 'tool_call', id: item.call_id, name: item.name, arguments: item.arguments });
    else if (item.type === 'reasoning') {
      const text = Array.isArray(item.summary) ? item.summary.map((s: any) => s?.text ?? '').join('') : '';
      if (text) parts.push({ type: 'reasoning', content: text });
    }
  }
  return [{ role: 'assistant', parts, finish_reason: finishReason }];
}
