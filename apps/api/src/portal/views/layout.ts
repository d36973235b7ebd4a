import type { FieldError } from '@callbacks/contracts';
import type { AuditOrigin } from '../../audit/audit-trail';
import { CSRF_FIELD } from '../../auth/portal-session-cookie';
import { html, type HtmlValue, type SafeHtml } from './html';

/** What every signed-in page needs: whose portal it is (named on every page), the session's CSRF token for its forms, and who is acting (for the audit trail). */
export interface PortalContext {
  partnerId: string;
  /** The signed-in partner's name; null when the page is opened with a key rather than a session. */
  partnerName: string | null;
  csrfToken: string;
  origin: AuditOrigin;
}

export type PortalSection = 'overview' | 'callbacks' | 'echo' | 'deliveries' | 'activity';

const SECTIONS: Array<{ section: PortalSection; label: string; path: string }> = [
  { section: 'overview', label: 'Overview', path: '' },
  { section: 'callbacks', label: 'Callbacks', path: '/callbacks' },
  { section: 'echo', label: 'Test echo', path: '/echo' },
  { section: 'deliveries', label: 'Delivery log', path: '/deliveries' },
  { section: 'activity', label: 'Activity', path: '/activity' },
];

export function portalPath(context: PortalContext, path = ''): string {
  return `/portal/${context.partnerId}${path}`;
}

function htmlDocument(title: string, body: SafeHtml, bodyAttributes: SafeHtml = html``): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Partner portal</title>
<link rel="stylesheet" href="/portal/assets/portal.css">
<script src="/portal/assets/portal.js" defer></script>
</head>
<body${bodyAttributes}>
<a class="skip" href="#main">Skip to content</a>
${body}
</body>
</html>`;
}

/** The hidden CSRF field every portal form carries. */
export function csrfField(context: PortalContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${context.csrfToken}" />`;
}

/** A form with one button that POSTs to `action`; `confirm` asks first (with the static script). */
export function postButton(
  context: PortalContext,
  action: string,
  label: string,
  options: { confirm?: string; style?: 'danger' | 'secondary' } = {},
): SafeHtml {
  return html`<form method="post" action="${action}" class="inline" ${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>
    ${csrfField(context)}<button type="submit" class="${options.style ?? ''}">${label}</button>
  </form>`;
}

export interface PageOptions {
  title: string;
  section?: PortalSection;
  notice?: string;
  /** Seconds after which the static script reloads the page (a delivery still pending). */
  refreshSeconds?: number;
}

export function portalPage(context: PortalContext, options: PageOptions, content: HtmlValue): SafeHtml {
  const nav = SECTIONS.map(
    ({ section, label, path }) =>
      html`<li><a href="${portalPath(context, path)}" ${section === options.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
  );
  const body = html`<header class="top">
      <span class="brand">Partner Callbacks</span>
      <span class="signed-in" data-partner-id="${context.partnerId}"
        >${context.partnerName === null ? html`Partner <code>${context.partnerId}</code>` : html`Signed in as <strong>${context.partnerName}</strong>`}</span
      >
      <nav aria-label="Portal">
        <ul>
          ${nav}
        </ul>
      </nav>
      ${postButton(context, '/portal/sign-out', 'Sign out', { style: 'secondary' })}
    </header>
    <main id="main">
      <h1>${options.title}</h1>
      ${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''} ${content}
    </main>`;
  return htmlDocument(options.title, body, options.refreshSeconds ? html` data-refresh="${options.refreshSeconds}"` : html``);
}

/** A page outside a session: sign-in problems, signed out, errors. */
export function messagePage(title: string, content: HtmlValue): SafeHtml {
  return htmlDocument(
    title,
    html`<header class="top"><span class="brand">Partner Callbacks</span></header>
      <main id="main" class="message">
        <h1>${title}</h1>
        ${content}
      </main>`,
  );
}

/** A time in ISO-8601; the static script shows it in the browser's time zone, the ISO value stays on hover. */
/** A portal table: stacked on narrow screens, captioned for screen readers, one heading per column. */
export function dataTable(options: { caption: string; headings: string[]; rows: HtmlValue; className?: string }): SafeHtml {
  const className = options.className ? `stack ${options.className}` : 'stack';
  return html`<div class="table-wrap">
    <table class="${className}">
      <caption class="visually-hidden">
        ${options.caption}
      </caption>
      <thead>
        <tr>
          ${options.headings.map((heading) => html`<th scope="col">${heading}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${options.rows}
      </tbody>
    </table>
  </div>`;
}

export function time(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}" title="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
}

/** Error messages per form input ('form' for the form as a whole). */
export type FieldErrors = Record<string, string[]>;

/** Field errors by the input they belong to; a message away from its own field names the field. */
export function groupErrors(errors: FieldError[], inputOf: (field: string) => string): FieldErrors {
  const grouped: FieldErrors = {};
  for (const { field, message } of errors) {
    const input = inputOf(field);
    (grouped[input] ??= []).push(input === field ? message : `${field} ${message}`);
  }
  return grouped;
}

/** Attributes that tie an input to its error text (aria-invalid, aria-describedby). */
export function errorAttributes(id: string, errors: FieldErrors, name: string): SafeHtml {
  return errors[name] ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}

export function errorText(id: string, errors: FieldErrors, name: string): SafeHtml {
  const messages = errors[name];
  return messages ? html`<p class="field-error" id="${id}-error">${messages.join('; ')}</p>` : html``;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge badge-${status}">${status}</span>`;
}
