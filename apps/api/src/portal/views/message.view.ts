import { html, type SafeHtml } from './html';
import { messagePage } from './layout';

const NEW_LINK = html`<p>
  <strong>How to get a new link:</strong> ask your contact at the platform (the operator) for a new portal link, or have your developers
  create one with your API key: <code>POST /{partnerUniqueID}/portal-links</code>. A link works once, for 15 minutes.
</p>`;

export type LinkProblem = 'used' | 'expired' | 'unknown';

const LINK_PROBLEMS: Record<LinkProblem, { title: string; text: string }> = {
  used: {
    title: 'This sign-in link has already been used',
    text: 'Each portal link signs in once. If that was you, your earlier tab is still signed in.',
  },
  expired: { title: 'This sign-in link has expired', text: 'Portal links work for 15 minutes after they are made.' },
  unknown: { title: 'This sign-in link is not valid', text: 'The link is not one we issued, or it was cut short when it was copied.' },
};

export function linkProblemPage(problem: LinkProblem): SafeHtml {
  const { title, text } = LINK_PROBLEMS[problem];
  return messagePage(
    title,
    html`<p>${text}</p>
      ${NEW_LINK}`,
  );
}

export function signedOutPage(): SafeHtml {
  return messagePage(
    'You are signed out',
    html`<p>Your portal session has ended on this device.</p>
      ${NEW_LINK}`,
  );
}

export function notSignedInPage(): SafeHtml {
  return messagePage(
    'You are not signed in',
    html`<p>This browser has no portal session, or it has ended (sessions last 8 hours, and signing out ends them).</p>
      ${NEW_LINK}`,
  );
}

/**
 * Opened from another site (a mail client) right after signing in, the SameSite=Strict cookie is
 * not sent on the redirect; loading the page once more from our own origin sends it.
 */
export function continueSignInPage(): SafeHtml {
  return messagePage('Signing you in…', html`<p><a href="/portal" data-auto-follow="true">Continue to the partner portal</a></p>`);
}

export function errorPage(status: number, title: string, detail: string, back?: string): SafeHtml {
  return messagePage(
    title,
    html`<p>${detail}</p>
      <p class="muted">HTTP ${status}</p>
      ${back ? html`<p><a href="${back}">Back to the portal</a></p>` : ''}`,
  );
}
