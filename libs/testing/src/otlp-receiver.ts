import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP exporter sent it, flattened with the service that sent it. */
export interface ReceivedSpan {
  service: string;
  /** The instrumentation scope, e.g. "@opentelemetry/instrumentation-pg" or "bullmq". */
  scope: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
}

type AttributeValue = string | number | boolean;

/** OTLP/JSON (the http/json protocol): ids are hex strings, values are typed wrappers. */
interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}
interface JsonExport {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: Array<{
      scope?: { name?: string };
      spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: JsonKeyValue[] }>;
    }>;
  }>;
}

function jsonAttributes(list: JsonKeyValue[] = []): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of list) {
    const scalar =
      value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined);
    if (scalar !== undefined) attributes[key] = scalar;
  }
  return attributes;
}

function fromJson(body: Buffer): ReceivedSpan[] {
  const exported = JSON.parse(body.toString('utf8')) as JsonExport;
  return (exported.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(jsonAttributes(resourceSpans.resource?.attributes)['service.name']);
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => ({
        service,
        scope: scopeSpans.scope?.name ?? '',
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        attributes: jsonAttributes(span.attributes),
      })),
    );
  });
}

/** Protocol Buffers wire format, as much as an ExportTraceServiceRequest needs. */
interface WireField {
  number: number;
  varint?: bigint;
  bytes?: Buffer;
}

function wireFields(buffer: Buffer): WireField[] {
  const fields: WireField[] = [];
  let position = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[position++];
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  const take = (length: number): Buffer => buffer.subarray(position, (position += length));
  while (position < buffer.length) {
    const tag = Number(varint());
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === 0) fields.push({ number, varint: varint() });
    else if (wireType === 1) fields.push({ number, bytes: take(8) });
    else if (wireType === 2) fields.push({ number, bytes: take(Number(varint())) });
    else if (wireType === 5) fields.push({ number, bytes: take(4) });
    else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
  return fields;
}

const all = (fields: WireField[], number: number): Buffer[] =>
  fields.filter((field) => field.number === number && field.bytes).map((field) => field.bytes!);
const first = (fields: WireField[], number: number): Buffer | undefined => all(fields, number)[0];

/** KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string = 1; bool = 2; int = 3; double = 4 }. */
function protobufAttributes(keyValues: Buffer[]): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const keyValue of keyValues) {
    const fields = wireFields(keyValue);
    const key = first(fields, 1)?.toString('utf8');
    const value = wireFields(first(fields, 2) ?? Buffer.alloc(0))[0];
    if (key === undefined || value === undefined) continue;
    if (value.number === 1) attributes[key] = value.bytes!.toString('utf8');
    else if (value.number === 2) attributes[key] = value.varint === 1n;
    else if (value.number === 3) attributes[key] = Number(BigInt.asIntN(64, value.varint!));
    else if (value.number === 4) attributes[key] = value.bytes!.readDoubleLE(0);
  }
  return attributes;
}

/** ExportTraceServiceRequest { ResourceSpans resource_spans = 1 } and down to Span, by field number. */
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return all(wireFields(body), 1).flatMap((resourceSpansBytes) => {
    const resourceSpans = wireFields(resourceSpansBytes);
    const resource = wireFields(first(resourceSpans, 1) ?? Buffer.alloc(0));
    const service = String(protobufAttributes(all(resource, 1))['service.name']);
    return all(resourceSpans, 2).flatMap((scopeSpansBytes) => {
      const scopeSpans = wireFields(scopeSpansBytes);
      const scope = first(wireFields(first(scopeSpans, 1) ?? Buffer.alloc(0)), 1)?.toString('utf8') ?? '';
      return all(scopeSpans, 2).map((spanBytes) => {
        const span = wireFields(spanBytes);
        return {
          service,
          scope,
          traceId: first(span, 1)?.toString('hex') ?? '',
          spanId: first(span, 2)?.toString('hex') ?? '',
          parentSpanId: first(span, 4)?.toString('hex') ?? '',
          name: first(span, 5)?.toString('utf8') ?? '',
          attributes: protobufAttributes(all(span, 9)),
        };
      });
    });
  });
}

/**
 * A local OTLP/HTTP trace receiver (what a collector's otlphttp receiver does): accepts
 * POST /v1/traces in http/protobuf and http/json, and keeps every span with the content type it came in.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** The content types of the exports received (application/x-protobuf, application/json). */
  readonly contentTypes = new Set<string>();
  private readonly server = createServer((request, response) => this.handle(request, response));

  private constructor() {}

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** What OTEL_EXPORTER_OTLP_ENDPOINT should say (the exporter appends /v1/traces). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0];
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const json = contentType === 'application/json';
      this.contentTypes.add(contentType);
      this.spans.push(...(json ? fromJson : fromProtobuf)(Buffer.concat(chunks)));
      // An empty ExportTraceServiceResponse: "{}" in JSON, zero bytes in protobuf.
      response.writeHead(200, { 'content-type': contentType }).end(json ? '{}' : undefined);
    });
  }
}
