import {
  type CallbackDto,
  DELIVERY_ORDERINGS,
  type DeliveryOrdering,
  NOTIFICATION_TYPES,
  type NotificationTypeDefinition,
  SIGNATURE_SCHEMES,
  type SignatureScheme,
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
  time,
} from './layout';

/** Fields the lifecycle issue adds to a callback; shown when the API returns them. */
type CallbackView = CallbackDto & { disabledReason?: string | null; lastSuccessAt?: string | null; failingSince?: string | null };

export interface CallbackFormState {
  notificationTypeId: number;
  callbackUrl: string;
  headersText: string;
  enabled: boolean;
  signature: SignatureScheme;
  /** PEM; empty: the public roots. */
  caCertificate: string;
  /** OAuth2 client credentials; the client secret is never shown, only typed in. */
  authEnabled: boolean;
  authTokenUrl: string;
  authClientId: string;
  authScope: string;
  /** The delivery policy; the number inputs as typed (empty: the default, or for the rate none). */
  deliveryOrdering: DeliveryOrdering;
  deliveryMaxInFlight: string;
  deliveryRatePerSecond: string;
  deliveryTimeoutMs: string;
  errors: FieldErrors;
}

/** The form as a callback's current settings fill it. */
/** The service's defaults: a policy field at its default is shown empty, so saving the form does not pin the callback to it. */
export interface DeliveryDefaults {
  maxInFlight: number;
  timeoutMs: number;
}

export function callbackFormState(
  notificationTypeId: number,
  callback: CallbackDto | undefined,
  defaults?: DeliveryDefaults,
): CallbackFormState {
  return {
    notificationTypeId,
    callbackUrl: callback?.callbackUrl ?? '',
    headersText: headersToText(callback?.headers ?? {}),
    enabled: callback?.enabled ?? true,
    signature: callback?.signature ?? 'hmac',
    caCertificate: callback?.tls?.caCertificate ?? '',
    authEnabled: Boolean(callback?.auth),
    authTokenUrl: callback?.auth?.tokenUrl ?? '',
    authClientId: callback?.auth?.clientId ?? '',
    authScope: callback?.auth?.scope ?? '',
    deliveryOrdering: callback?.delivery.ordering ?? 'none',
    deliveryMaxInFlight: callback && callback.delivery.maxInFlight !== defaults?.maxInFlight ? String(callback.delivery.maxInFlight) : '',
    deliveryRatePerSecond: callback?.delivery.ratePerSecond ? String(callback.delivery.ratePerSecond) : '',
    deliveryTimeoutMs: callback && callback.delivery.timeoutMs !== defaults?.timeoutMs ? String(callback.delivery.timeoutMs) : '',
    errors: {},
  };
}

const ORDERING_LABELS: Record<DeliveryOrdering, string> = {
  none: 'None: as they come, in parallel',
  case: 'Per case: one at a time per process or simulation, in acceptance order',
};

/** The policy in force, in a line. */
function policyLine(callback: CallbackDto): SafeHtml {
  const { ordering, maxInFlight, ratePerSecond, timeoutMs } = callback.delivery;
  return html`<span class="muted"
    >${ordering === 'case' ? 'ordered per case' : 'unordered'} · at most ${maxInFlight} in flight ·
    ${ratePerSecond === null ? 'no rate limit' : `at most ${ratePerSecond}/s`} · ${timeoutMs} ms timeout</span
  >`;
}

const SIGNATURE_LABELS: Record<SignatureScheme, string> = {
  hmac: 'HMAC (v1, with the signing secret)',
  ed25519: 'Ed25519 (v1a, with our public key)',
  both: 'Both v1 and v1a (while moving from one to the other)',
};

/** Custom headers as the form shows them: one "Name: value" per line. */
export function headersToText(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
}

function typeHeading(type: NotificationTypeDefinition): SafeHtml {
  return html`${type.id} · <code>${type.name}</code>`;
}

function state(callback: CallbackView): SafeHtml {
  const enabled = callback.enabled
    ? html`<span class="badge badge-delivered">enabled</span>`
    : html`<span class="badge badge-skipped">disabled</span>`;
  const reason = callback.disabledReason ? html` <span class="muted">(${callback.disabledReason})</span>` : '';
  return html`${enabled}${reason} <span class="badge badge-health-${callback.health}" title="health">${callback.health}</span>`;
}

export function overviewPage(context: PortalContext, callbacks: CallbackView[], notice?: string): SafeHtml {
  const rows = NOTIFICATION_TYPES.map((type) => {
    const callback = callbacks.find((item) => item.notificationTypeId === type.id);
    if (!callback) {
      return html`<tr>
        <th scope="row" data-label="Type">${typeHeading(type)}</th>
        <td data-label="Callback URL" colspan="3">
          <span class="muted">Not configured.</span> <a href="${portalPath(context, '/callbacks')}#type-${type.id}">Set one up</a>
        </td>
      </tr>`;
    }
    return html`<tr>
      <th scope="row" data-label="Type">${typeHeading(type)}</th>
      <td data-label="Callback URL" class="url">${callback.callbackUrl}</td>
      <td data-label="State">
        ${state(callback)}${callback.failingSince ? html`<br /><span class="muted">failing since ${time(callback.failingSince)}</span>` : ''}
        <br />${policyLine(callback)}
      </td>
      <td data-label="Last success">${'lastSuccessAt' in callback ? time(callback.lastSuccessAt) : html`<span class="muted">—</span>`}</td>
    </tr>`;
  });
  return portalPage(
    context,
    { title: 'Overview', section: 'overview', notice },
    html`<p>Your callbacks per notification type. Every change here is the same as through the API.</p>
      ${dataTable({ caption: 'Callbacks per notification type', headings: ['Type', 'Callback URL', 'State', 'Last success'], rows })}
      <p>
        <a href="${portalPath(context, '/deliveries')}">Open the delivery log</a> ·
        <a href="${portalPath(context, '/echo')}">Send a test echo</a>
      </p>`,
  );
}

function callbackForm(
  context: PortalContext,
  type: NotificationTypeDefinition,
  form: CallbackFormState,
  exists: boolean,
  hasClientSecret: boolean,
): SafeHtml {
  const id = `cb${type.id}`;
  const signatureOptions = SIGNATURE_SCHEMES.map(
    (scheme) => html`<option value="${scheme}" ${scheme === form.signature ? html` selected` : ''}>${SIGNATURE_LABELS[scheme]}</option>`,
  );
  const text = (name: string, label: SafeHtml | string, value: string, attributes: { type?: string; placeholder?: string } = {}) =>
    html`<label for="${id}-${name}">${label}</label>
      <input
        id="${id}-${name}"
        name="${name}"
        type="${attributes.type ?? 'text'}"
        autocomplete="off"
        spellcheck="false"
        value="${value}"
        placeholder="${attributes.placeholder ?? ''}"
        ${errorAttributes(`${id}-${name}`, form.errors, name)}
      />
      ${errorText(`${id}-${name}`, form.errors, name)}`;
  return html`<form method="post" action="${portalPath(context, `/callbacks/${type.id}`)}" class="stacked" novalidate>
    ${csrfField(context)} ${errorText(`${id}-form`, form.errors, 'form')}
    <label for="${id}-url">Callback URL</label>
    <input
      id="${id}-url"
      name="callbackUrl"
      type="text"
      inputmode="url"
      autocomplete="off"
      spellcheck="false"
      value="${form.callbackUrl}"
      placeholder="https://example.com/webhooks"
      ${errorAttributes(`${id}-url`, form.errors, 'callbackUrl')}
    />
    ${errorText(`${id}-url`, form.errors, 'callbackUrl')}
    <label for="${id}-headers"
      >Custom headers <span class="muted">(one per line, <code>Name: value</code>)</span></label
    >
    <textarea id="${id}-headers" name="headers" rows="3" spellcheck="false" ${errorAttributes(`${id}-headers`, form.errors, 'headers')}>
${form.headersText}</textarea>
    ${errorText(`${id}-headers`, form.errors, 'headers')}
    <div class="check">
      <input id="${id}-enabled" name="enabled" type="checkbox" value="true" ${form.enabled ? html` checked` : ''} /><label
        for="${id}-enabled"
        >Enabled</label
      >
    </div>
    <label for="${id}-signature">Signature</label>
    <select id="${id}-signature" name="signature" ${errorAttributes(`${id}-signature`, form.errors, 'signature')}>
      ${signatureOptions}
    </select>
    ${errorText(`${id}-signature`, form.errors, 'signature')}
    <label for="${id}-caCertificate"
      >CA certificate <span class="muted">(PEM, for an endpoint behind a private CA; empty: public CAs)</span></label
    >
    <textarea
      id="${id}-caCertificate"
      name="caCertificate"
      rows="3"
      spellcheck="false"
      placeholder="-----BEGIN CERTIFICATE-----"
      ${errorAttributes(`${id}-caCertificate`, form.errors, 'caCertificate')}
    >
${form.caCertificate}</textarea>
    ${errorText(`${id}-caCertificate`, form.errors, 'caCertificate')}
    <fieldset>
      <legend>Delivery policy</legend>
      <label for="${id}-deliveryOrdering">Ordering</label>
      <select
        id="${id}-deliveryOrdering"
        name="deliveryOrdering"
        ${errorAttributes(`${id}-deliveryOrdering`, form.errors, 'deliveryOrdering')}
      >
        ${DELIVERY_ORDERINGS.map(
          (ordering) =>
            html`<option value="${ordering}" ${ordering === form.deliveryOrdering ? html` selected` : ''}>
              ${ORDERING_LABELS[ordering]}
            </option>`,
        )}
      </select>
      ${errorText(`${id}-deliveryOrdering`, form.errors, 'deliveryOrdering')}
      ${text('deliveryMaxInFlight', html`At most in flight <span class="muted">(1 to 100; empty: the service's default)</span>`, form.deliveryMaxInFlight, { type: 'number' })}
      ${text('deliveryRatePerSecond', html`At most per second <span class="muted">(empty: no limit)</span>`, form.deliveryRatePerSecond, { type: 'number' })}
      ${text('deliveryTimeoutMs', html`Timeout in ms <span class="muted">(empty: the service's default, also the largest)</span>`, form.deliveryTimeoutMs, { type: 'number' })}
    </fieldset>
    <fieldset>
      <legend>OAuth2 access token</legend>
      <div class="check">
        <input id="${id}-authEnabled" name="authEnabled" type="checkbox" value="true" ${form.authEnabled ? html` checked` : ''} /><label
          for="${id}-authEnabled"
          >Send <code>Authorization: Bearer</code> with a token from your token URL (client credentials)</label
        >
      </div>
      ${errorText(`${id}-auth`, form.errors, 'auth')}
      ${text('authTokenUrl', 'Token URL', form.authTokenUrl, { placeholder: 'https://auth.example.com/oauth2/token' })}
      ${text('authClientId', 'Client ID', form.authClientId)}
      ${text(
        'authClientSecret',
        html`Client secret
          <span class="muted"
            >${hasClientSecret ? '(stored; leave empty to keep it unless the token URL or client ID changes)' : ''}</span
          >`,
        '',
        { type: 'password' },
      )}
      ${text('authScope', html`Scope <span class="muted">(optional)</span>`, form.authScope)}
    </fieldset>
    <button type="submit">${exists ? 'Save changes' : 'Create callback'}</button>
  </form>`;
}

/** The ed25519 public key partners verify v1a signatures with (and the previous one while it still signs). */
function publicKeyLine(key: { publicKey: string; previousPublicKey?: string } | undefined): SafeHtml | string {
  if (!key) return '';
  const previous = key.previousPublicKey
    ? html`<br /><span class="muted">Previous key, still signing for up to 24 hours:</span>
        <code class="secret">${key.previousPublicKey}</code>`
    : '';
  return html`<p>Public key (verifies <code>v1a</code> signatures): <code class="secret">${key.publicKey}</code>${previous}</p>`;
}

export function callbacksPage(
  context: PortalContext,
  callbacks: CallbackView[],
  options: {
    notice?: string;
    form?: CallbackFormState;
    publicKeys?: Map<number, { publicKey: string; previousPublicKey?: string }>;
    defaults?: DeliveryDefaults;
  } = {},
): SafeHtml {
  const sections = NOTIFICATION_TYPES.map((type) => {
    const callback = callbacks.find((item) => item.notificationTypeId === type.id);
    const form = options.form?.notificationTypeId === type.id ? options.form : callbackFormState(type.id, callback, options.defaults);
    const base = portalPath(context, `/callbacks/${type.id}`);
    const actions = callback
      ? html`<div class="actions">
          ${callback.enabled ? postButton(context, `${base}/disable`, 'Disable', { style: 'secondary' }) : postButton(context, `${base}/enable`, 'Enable', { style: 'secondary' })}
          <a class="button secondary" href="${base}/secret">Reveal signing secret</a>
          <a class="button secondary" href="${base}/rotate">Rotate signing ${callback.signature === 'hmac' ? 'secret' : 'keys'}…</a>
          <a class="button secondary" href="${base}/recover">Recover since…</a>
          ${postButton(context, `${base}/delete`, 'Delete', { style: 'danger', confirm: `Delete the callback for ${type.name}? Its events will be skipped until you set one up again.` })}
        </div>`
      : '';
    return html`<section class="card" id="type-${type.id}" aria-labelledby="type-${type.id}-title">
      <h2 id="type-${type.id}-title">${typeHeading(type)}</h2>
      <p class="muted">${type.description}</p>
      ${callback ? html`<p>${state(callback)} <span class="muted">updated ${time(callback.updatedAt)}</span><br />${policyLine(callback)}</p>` : html`<p class="muted">No callback yet: events of this type are skipped.</p>`}
      ${publicKeyLine(options.publicKeys?.get(type.id))}
      ${callbackForm(context, type, form, callback !== undefined, Boolean(callback?.auth))} ${actions}
    </section>`;
  });
  return portalPage(context, { title: 'Callbacks', section: 'callbacks', notice: options.notice }, sections);
}

export function secretPage(context: PortalContext, type: NotificationTypeDefinition, signingSecret: string, notice?: string): SafeHtml {
  return portalPage(
    context,
    { title: `Signing secret for ${type.name}`, section: 'callbacks', notice },
    html`<p>Verify every delivery with this secret (Standard Webhooks). Keep it out of source code and chat.</p>
      <label for="secret">Signing secret</label>
      <input id="secret" class="secret" type="text" readonly value="${signingSecret}" spellcheck="false" autocomplete="off" />
      <p><a href="${portalPath(context, '/callbacks')}#type-${type.id}">Back to callbacks</a></p>`,
  );
}

export function rotateConfirmPage(context: PortalContext, type: NotificationTypeDefinition): SafeHtml {
  const base = portalPath(context, `/callbacks/${type.id}`);
  return portalPage(
    context,
    { title: `Rotate the signing secret for ${type.name}?`, section: 'callbacks' },
    html`<p>
        A new secret is made at once (and, for a callback signed with Ed25519, a new key pair). For the next 24 hours every delivery is
        signed with both the new and the old one, so your receiver keeps verifying while you deploy the new one. Rotating again within those
        24 hours retires the oldest.
      </p>
      <div class="actions">
        ${postButton(context, `${base}/secret/rotate`, 'Rotate now', { style: 'danger' })}
        <a class="button secondary" href="${portalPath(context, '/callbacks')}#type-${type.id}">Cancel</a>
      </div>`,
  );
}

export interface RecoverFormState {
  since: string;
  until: string;
  errors: FieldErrors;
}

/** "Recover since…": a new delivery round for the failed notifications of one type in a window. */
export function recoverPage(context: PortalContext, type: NotificationTypeDefinition, form: RecoverFormState): SafeHtml {
  const base = portalPath(context, `/callbacks/${type.id}`);
  return portalPage(
    context,
    { title: `Recover ${type.name} notifications`, section: 'callbacks' },
    html`<p>
        Every notification of this type accepted in the window that ended <strong>failed</strong> (or was skipped while the callback was
        disabled for failing) is delivered again, with its original webhook-id, so your receiver can deduplicate. At most 10,000 at a time;
        the window may not reach back further than the data is kept.
      </p>
      <form method="post" action="${base}/recover" class="stacked" novalidate>
        ${csrfField(context)} ${errorText('recover-form', form.errors, 'form')}
        <label for="recover-since">Since <span class="muted">(ISO 8601, e.g. 2026-11-27T08:00:00Z)</span></label>
        <input
          id="recover-since"
          name="since"
          type="text"
          autocomplete="off"
          spellcheck="false"
          value="${form.since}"
          ${errorAttributes('recover-since', form.errors, 'since')}
        />
        ${errorText('recover-since', form.errors, 'since')}
        <label for="recover-until">Until <span class="muted">(optional; now when empty)</span></label>
        <input
          id="recover-until"
          name="until"
          type="text"
          autocomplete="off"
          spellcheck="false"
          value="${form.until}"
          ${errorAttributes('recover-until', form.errors, 'until')}
        />
        ${errorText('recover-until', form.errors, 'until')}
        <div class="actions">
          <button type="submit">Recover</button>
          <a class="button secondary" href="${portalPath(context, '/callbacks')}#type-${type.id}">Cancel</a>
        </div>
      </form>`,
  );
}
