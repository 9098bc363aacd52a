import type { ChatHistoryItem, ChatModelFunctionCall } from 'node-llama-cpp';
import type { ChatMessage } from '../../../ports/chat-model.js';

/**
 * Converts the port's messages to node-llama-cpp chat history. A tool result is attached to the
 * function call it answers (node-llama-cpp renders calls and results together in the model's own
 * chat template); a result whose call is not in the history becomes a user message. When the
 * history ends with a model response (e.g. tool calls with their results), node-llama-cpp lets the
 * model continue that response.
 */
export function toLlamaHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const callsById = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user':
        history.push({ type: 'user', text: message.content });
        break;
      case 'assistant': {
        const response: Array<string | ChatModelFunctionCall> = [];
        if (message.content.length > 0) response.push(message.content);
        for (const call of message.toolCalls ?? []) {
          const functionCall: ChatModelFunctionCall = { type: 'functionCall', name: call.name, params: call.args, result: null };
          callsById.set(call.callId, functionCall);
          response.push(functionCall);
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool': {
        const call = callsById.get(message.toolCallId);
        if (call) call.result = parsedResult(message.content);
        else history.push({ type: 'user', text: `Result of tool ${message.toolName}:\n${message.content}` });
        break;
      }
    }
  }
  return history;
}

/** A tool result as the model's template renders it: the JSON value when the content is JSON, else the text. */
function parsedResult(content: string): unknown {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}
