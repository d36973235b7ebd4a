import {
  NOTIFICATION_STATUSES,
  NOTIFICATION_TYPES,
  type NotificationDetailDto,
  type NotificationPageDto,
  notificationTypeName,
} from '@callbacks/contracts';
import { html, type SafeHtml } from './html';
import {
  csrfField,
  dataTable,
  errorAttributes,
  errorText,
  type FieldErrors,
  portalPage,
  portalPath,
  type PortalContext,
  postButton,
  statusBadge,
  time,
} from './layout';

export interface EchoFormState {
  notificationTypeId: string;
  processUniqueId: string;
  simulationUniqueId: string;
  otherFields: string;
  errors: FieldErrors;
}

/** The form's first state for a type: the catalog's example, its case id in its own field. */
export function echoExample(notificationTypeId: number): EchoFormState {
  const example = { ...(NOTIFICATION_TYPES.find((type) => type.id === notificationTypeId) ?? NOTIFICATION_TYPES[0]).example };
  const { processUniqueId, simulationUniqueId, ...otherFields } = example;
  return {
    notificationTypeId: String(notificationTypeId),
    processUniqueId: typeof processUniqueId === 'string' ? processUniqueId : '',
    simulationUniqueId: typeof simulationUniqueId === 'string' ? simulationUniqueId : '',
    otherFields: JSON.stringify(otherFields, null, 2),
    errors: {},
  };
}

function typeOptions(selected: string, anyLabel?: string): SafeHtml[] {
  const options = NOTIFICATION_TYPES.map(
    (type) => html`<option value="${type.id}" ${String(type.id) === selected ? html` selected` : ''}>${type.id} · ${type.name}</option>`,
  );
  return anyLabel ? [html`<option value="">${anyLabel}</option>`, ...options] : options;
}

function textInput(id: string, name: string, label: string, value: string, errors: FieldErrors): SafeHtml {
  return html`<div class="field">
    <label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${name}"
      type="text"
      autocomplete="off"
      spellcheck="false"
      value="${value}"
      ${errorAttributes(id, errors, name)}
    />
    ${errorText(id, errors, name)}
  </div>`;
}

export function echoPage(context: PortalContext, form: EchoFormState): SafeHtml {
  return portalPage(
    context,
    { title: 'Test echo', section: 'echo' },
    html`<p>
        Sends a test delivery (<code>"test": true</code>) to your callback for the type. Give exactly one of a process id or a simulation
        id.
      </p>
      <form method="post" action="${portalPath(context, '/echo')}" class="stacked card" novalidate>
        ${csrfField(context)} ${errorText('echo-form', form.errors, 'form')}
        <label for="echo-type">Notification type</label>
        <select id="echo-type" name="notificationTypeId" ${errorAttributes('echo-type', form.errors, 'notificationTypeId')}>
          ${typeOptions(form.notificationTypeId)}
        </select>
        ${errorText('echo-type', form.errors, 'notificationTypeId')}
        <div class="pair">
          ${textInput('echo-process', 'processUniqueId', 'Process id', form.processUniqueId, form.errors)}
          ${textInput('echo-simulation', 'simulationUniqueId', 'Simulation id', form.simulationUniqueId, form.errors)}
        </div>
        <label for="echo-fields">Other payload fields <span class="muted">(a JSON object)</span></label>
        <textarea
          id="echo-fields"
          name="otherFields"
          rows="8"
          spellcheck="false"
          ${errorAttributes('echo-fields', form.errors, 'otherFields')}
        >
${form.otherFields}</textarea>
        ${errorText('echo-fields', form.errors, 'otherFields')}
        <button type="submit">Send test echo</button>
      </form>`,
  );
}

export interface DeliveryFilters {
  status: string;
  notificationTypeId: string;
  processUniqueId: string;
  simulationUniqueId: string;
}

function query(filters: DeliveryFilters, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (cursor) params.set('cursor', cursor);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function caseOf(item: { processUniqueId: string | null; simulationUniqueId: string | null }): SafeHtml {
  if (item.processUniqueId) return html`<span class="muted">process</span> ${item.processUniqueId}`;
  if (item.simulationUniqueId) return html`<span class="muted">simulation</span> ${item.simulationUniqueId}`;
  return html`<span class="muted">—</span>`;
}

export function deliveriesPage(
  context: PortalContext,
  filters: DeliveryFilters,
  page: NotificationPageDto | null,
  errors: FieldErrors,
  paged: boolean,
): SafeHtml {
  const statusOptions = [
    html`<option value="">Any status</option>`,
    ...NOTIFICATION_STATUSES.map(
      (status) => html`<option value="${status}" ${status === filters.status ? html` selected` : ''}>${status}</option>`,
    ),
  ];
  const rows = (page?.items ?? []).map(
    (item) =>
      html`<tr>
        <td data-label="Accepted">${time(item.createdAt)}</td>
        <td data-label="Type">
          ${item.notificationTypeId} ·
          ${notificationTypeName(item.notificationTypeId)}${item.test ? html` <span class="badge">test</span>` : ''}
        </td>
        <td data-label="Case">${caseOf(item)}</td>
        <td data-label="Status">
          ${statusBadge(item.status)}${
            item.waitingFor
              ? html`<br /><span class="muted"
                    >waiting for <a href="${portalPath(context, `/deliveries/${item.waitingFor}`)}">the previous one of its case</a></span
                  >`
              : ''
          }
        </td>
        <td data-label="Attempts">${item.attemptCount}</td>
        <td data-label="Details">
          <a href="${portalPath(context, `/deliveries/${item.notificationId}`)}"
            >View <span class="visually-hidden">delivery ${item.notificationId}</span></a
          >
        </td>
      </tr>`,
  );
  const table = page
    ? rows.length > 0
      ? dataTable({ caption: 'Deliveries, newest first', headings: ['Accepted', 'Type', 'Case', 'Status', 'Attempts', 'Details'], rows })
      : html`<p class="muted">No deliveries match.</p>`
    : '';
  const pager = html`<nav class="pager" aria-label="Pages">
    ${paged ? html`<a href="${portalPath(context, '/deliveries')}${query(filters)}">Newest</a>` : ''}
    ${page?.nextCursor ? html`<a href="${portalPath(context, '/deliveries')}${query(filters, page.nextCursor)}" rel="next">Older</a>` : ''}
  </nav>`;
  return portalPage(
    context,
    { title: 'Delivery log', section: 'deliveries' },
    html`<form method="get" action="${portalPath(context, '/deliveries')}" class="filters card">
        ${errorText('filter-form', errors, 'form')}
        <div class="field">
          <label for="filter-status">Status</label
          ><select id="filter-status" name="status" ${errorAttributes('filter-status', errors, 'status')}>
            ${statusOptions}</select
          >${errorText('filter-status', errors, 'status')}
        </div>
        <div class="field">
          <label for="filter-type">Type</label
          ><select id="filter-type" name="notificationTypeId" ${errorAttributes('filter-type', errors, 'notificationTypeId')}>
            ${typeOptions(filters.notificationTypeId, 'Any type')}</select
          >${errorText('filter-type', errors, 'notificationTypeId')}
        </div>
        ${textInput('filter-process', 'processUniqueId', 'Process id', filters.processUniqueId, errors)}
        ${textInput('filter-simulation', 'simulationUniqueId', 'Simulation id', filters.simulationUniqueId, errors)}
        <div class="field buttons"><button type="submit">Filter</button> <a href="${portalPath(context, '/deliveries')}">Clear</a></div>
      </form>
      ${table} ${pager}`,
  );
}

function attemptResult(attempt: NotificationDetailDto['attempts'][number]): SafeHtml {
  if (attempt.statusCode !== null)
    return html`<span class="badge ${attempt.statusCode >= 200 && attempt.statusCode < 300 ? 'badge-delivered' : 'badge-failed'}"
      >HTTP ${attempt.statusCode}</span
    >`;
  return html`<span class="badge badge-failed">${attempt.error ?? 'error'}</span>`;
}

export function deliveryPage(
  context: PortalContext,
  detail: NotificationDetailDto,
  envelope: string,
  options: { notice?: string; refresh: boolean },
): SafeHtml {
  const attempts = detail.attempts.map(
    (attempt) =>
      html`<tr>
        <td data-label="Attempt">${attempt.attempt}</td>
        <td data-label="Time">${time(attempt.at)}</td>
        <td data-label="Result">${attemptResult(attempt)}</td>
        <td data-label="Duration">${attempt.durationMs} ms</td>
        <td data-label="URL" class="url">${attempt.callbackUrl}</td>
        <td data-label="Response">
          ${attempt.responseBody ? html`<pre class="excerpt">${attempt.responseBody}</pre>` : html`<span class="muted">(empty)</span>`}
        </td>
      </tr>`,
  );
  return portalPage(
    context,
    {
      title: `Delivery ${detail.notificationId}`,
      section: 'deliveries',
      notice: options.notice,
      refreshSeconds: options.refresh ? 2 : undefined,
    },
    html`<dl class="facts card">
        <dt>Status</dt>
        <dd>${statusBadge(detail.status)}${detail.statusReason ? html` <span class="muted">${detail.statusReason}</span>` : ''}</dd>
        <dt>Type</dt>
        <dd>${detail.notificationTypeId} · ${notificationTypeName(detail.notificationTypeId)}${detail.test ? ' (test)' : ''}</dd>
        <dt>Case</dt>
        <dd>${caseOf(detail)}${detail.sequence === null ? '' : html` <span class="muted">(sequence ${detail.sequence})</span>`}</dd>
        ${
          detail.waitingFor
            ? html`<dt>Waiting for</dt>
                <dd>
                  <a href="${portalPath(context, `/deliveries/${detail.waitingFor}`)}"><code>${detail.waitingFor}</code></a>
                  <span class="muted">(the previous notification of its case: this one is sent once it is delivered or has failed)</span>
                </dd>`
            : ''
        }
        <dt>Accepted</dt>
        <dd>${time(detail.createdAt)}</dd>
        <dt>Last attempt</dt>
        <dd>${time(detail.lastAttemptAt)}</dd>
        <dt>Next attempt</dt>
        <dd>${time(detail.nextAttemptAt)}</dd>
        <dt>webhook-id</dt>
        <dd><code>${detail.notificationId}</code></dd>
      </dl>
      <div class="actions">
        ${postButton(context, portalPath(context, `/deliveries/${detail.notificationId}/redeliver`), 'Redeliver now', {
          confirm: 'Deliver this notification again now, with the same webhook-id?',
        })} <a class="button secondary" href="${portalPath(context, '/deliveries')}">Back to the log</a>
      </div>
      <h2>Attempts</h2>
      ${
        attempts.length > 0
          ? dataTable({
              caption: 'Every delivery attempt',
              headings: ['#', 'Time', 'Result', 'Duration', 'URL', 'Response (first 1 KiB)'],
              rows: attempts,
              className: 'attempts',
            })
          : html`<p class="muted">No attempt yet.</p>`
      }
      <h2>Signed payload</h2>
      <p class="muted">
        The body every attempt sent and signed (<code>webhook-id</code> above; <code>webhook-timestamp</code> is each attempt's time).
      </p>
      <pre class="payload" tabindex="0">${envelope}</pre>`,
  );
}
