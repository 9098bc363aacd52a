import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/**
 * Exports the spans the app records (GenAI semantic conventions: `invoke_agent`, `chat`,
 * `execute_tool`) to an OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`). Without it the
 * OpenTelemetry API stays a no-op and nothing is recorded.
 */
export function startTracing({ endpoint, serviceName = 'soma', serviceVersion = '0.1.0' }: { endpoint: string; serviceName?: string; serviceVersion?: string }) {
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: serviceVersion }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
  });
  provider.register();
  return {
    /** Flushes pending spans and unregisters the provider. */
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
