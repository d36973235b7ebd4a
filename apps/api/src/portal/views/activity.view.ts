import type { AuditAction, AuditEntryDto, AuditPageDto } from '@callbacks/contracts';
import { html, type SafeHtml } from './html';
import { dataTable, portalPage, portalPath, type PortalContext, time } from './layout';

const ACTION_LABELS: Record<AuditAction, string> = {
  api_key_issued: 'API key issued',
  api_key_revoked: 'API key revoked',
  portal_link_created: 'Portal link created',
  portal_session_started: 'Signed in to the portal',
  portal_session_ended: 'Portal session ended',
  callback_created: 'Callback created',
  callback_updated: 'Callback updated',
  callback_enabled: 'Callback enabled',
  callback_disabled: 'Callback disabled',
  callback_deleted: 'Callback deleted',
  signing_secret_revealed: 'Signing secret revealed',
  signing_secret_rotated: 'Signing secret rotated',
  notification_redelivered: 'Notification redelivered',
  notifications_recovered: 'Notifications recovered',
  partner_erased: 'Partner erased',
  case_erased: 'Case erased',
};

function actorText(entry: AuditEntryDto, context: PortalContext): SafeHtml {
  const { kind, id } = entry.actor;
  if (kind === 'operator') return html`Operator`;
  const current = context.origin.actor.kind === kind && context.origin.actor.id === id;
  return html`${kind === 'api_key' ? 'API key' : 'Portal session'} <code>${id ?? ''}</code>${
      current ? html` <span class="badge">you</span>` : ''
    }`;
}

/** What changed, in words: the old and the new URL of a callback, the window of a recovery, and so on. */
function detailsText(details: Record<string, unknown>): SafeHtml {
  const entries = Object.entries(details);
  if (entries.length === 0) return html`<span class="muted">—</span>`;
  return html`<dl class="inline-facts">
    ${entries.map(
      ([name, value]) =>
        html`<dt>${name}</dt>
          <dd>${typeof value === 'string' ? value : JSON.stringify(value)}</dd>`,
    )}
  </dl>`;
}

/** The partner's own audit trail, newest first: who changed its access or destinations, when and from where. */
export function activityPage(context: PortalContext, page: AuditPageDto, paged: boolean): SafeHtml {
  const rows = page.items.map(
    (entry) =>
      html`<tr>
        <td data-label="Time">${time(entry.at)}</td>
        <td data-label="Action">${ACTION_LABELS[entry.action] ?? entry.action}</td>
        <td data-label="By">${actorText(entry, context)}</td>
        <td data-label="Target">${entry.target ? html`<code>${entry.target}</code>` : html`<span class="muted">—</span>`}</td>
        <td data-label="Details">${detailsText(entry.details)}</td>
        <td data-label="From">${entry.sourceAddress ?? ''}</td>
      </tr>`,
  );
  const table =
    rows.length > 0
      ? dataTable({
          caption: 'Changes to your access and callbacks, newest first',
          headings: ['Time', 'Action', 'By', 'Target', 'Details', 'From'],
          rows,
          className: 'activity',
        })
      : html`<p class="muted">No activity recorded yet.</p>`;
  const pager = html`<nav class="pager" aria-label="Pages">
    ${paged ? html`<a href="${portalPath(context, '/activity')}">Newest</a>` : ''}
    ${
      page.nextCursor
        ? html`<a href="${portalPath(context, '/activity')}?cursor=${encodeURIComponent(page.nextCursor)}" rel="next">Older</a>`
        : ''
    }
  </nav>`;
  return portalPage(
    context,
    { title: 'Activity', section: 'activity' },
    html`<p class="muted">
        Every change to your API keys, portal sessions and callbacks, and every redelivery and recovery: who made it, when and from which
        address. Secrets and payloads are never recorded.
      </p>
      ${table} ${pager}`,
  );
}
