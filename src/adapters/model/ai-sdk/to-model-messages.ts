import type { ModelMessage } from 'ai';
import type { ChatMessage } from '../../../ports/chat-model.js';

/** Converts the port's messages to AI SDK model messages (tool calls and results included). */
export function toModelMessages(messages: ChatMessage[]): ModelMessage[] {
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant':
        if (!message.toolCalls || message.toolCalls.length === 0) return { role: 'assistant', content: message.content };
        return {
          role: 'assistant',
          content: [
            ...(message.content.length > 0 ? [{ type: 'text' as const, text: message.content }] : []),
            ...message.toolCalls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.callId, toolName: call.name, input: call.args })),
          ],
        };
      case 'tool':
        return {
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: message.toolCallId, toolName: message.toolName, output: { type: 'text', value: message.content } }],
        };
    }
  });
}
