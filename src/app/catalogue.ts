import type { ModelFactory } from '../ports/model-factory.js';

/** One built-in tool as the capsule editor offers it. */
export interface CatalogueTool {
  name: string;
  kind: 'builtin';
  description: string;
  input_schema: Record<string, unknown>;
}

/** A model provider and whether this server can serve it. */
export interface CatalogueProvider {
  prefix: 'openai' | 'anthropic' | 'openai-compatible' | 'local' | 'scripted';
  available: boolean;
  /** Why it is not available (names an environment variable, never a path). */
  reason?: string;
}

/** What a capsule may choose on this server (`GET /v1/catalogue`). */
export interface Catalogue {
  tools: CatalogueTool[];
  /** Names of the MCP servers the operator registered (`SOMA_MCP_SERVERS`): what an MCP tool's `config.server` may name. Never their commands, URLs or headers. */
  mcp_servers: string[];
  models: {
    /** The model used when a capsule names none (`SOMA_MODEL`), shown by name only. */
    default: string;
    /** Model specs a capsule can pick from a list: the local models by catalogue name. */
    choices: string[];
    providers: CatalogueProvider[];
  };
}

/** A model spec shown to tenants: a path is reduced to its file name, without the extension. */
export function displayModelSpec(spec: string): string {
  const colon = spec.indexOf(':');
  const provider = spec.slice(0, colon);
  const target = spec.slice(colon + 1);
  if ((provider === 'local' || provider === 'scripted') && /[\\/]/.test(target)) {
    const file = target.split(/[\\/]/).pop() ?? target;
    return `${provider}:${file.replace(/\.(gguf|json)$/i, '')}`;
  }
  return spec;
}

const providerProbe: Record<Exclude<CatalogueProvider['prefix'], 'local' | 'scripted'>, string> = {
  openai: 'openai:probe',
  anthropic: 'anthropic:probe',
  'openai-compatible': 'openai-compatible:probe',
};

/**
 * The operator's catalogue: every built-in tool with its argument schema, and the models a capsule
 * may name — local models by catalogue name and the remote providers whose credentials are set —
 * and the registered MCP servers by name.
 */
export function readCatalogue({
  tools,
  defaultModel,
  localModels,
  models,
  allowScriptedModels = false,
  mcpServers = [],
}: {
  tools: CatalogueTool[];
  defaultModel: string;
  localModels: string[];
  models: ModelFactory;
  allowScriptedModels?: boolean;
  mcpServers?: readonly string[];
}): Catalogue {
  const providers: CatalogueProvider[] = Object.entries(providerProbe).map(([prefix, probe]) => {
    const info = models.describe(probe);
    return { prefix: prefix as CatalogueProvider['prefix'], available: info.available, ...(info.available || !info.reason ? {} : { reason: info.reason }) };
  });
  providers.push({ prefix: 'local', available: localModels.length > 0, ...(localModels.length > 0 ? {} : { reason: 'no local model in the models folder (run `soma model pull`)' }) });
  providers.push({ prefix: 'scripted', available: allowScriptedModels, ...(allowScriptedModels ? {} : { reason: 'scripted models are for tests (SOMA_ALLOW_SCRIPTED_MODELS)' }) });
  return { tools, mcp_servers: [...mcpServers], models: { default: displayModelSpec(defaultModel), choices: localModels, providers } };
}
