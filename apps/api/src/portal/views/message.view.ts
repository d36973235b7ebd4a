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

/**
 * What opening a sign-in link shows: whose portal it signs in to, and a button. Only the button's
 * POST uses the link, so a mail scanner that opens it changes nothing, and a person sees which
 * partner's portal they are about to use before typing anything into it.
 */
export function signInPage(token: string, partnerName: string): SafeHtml {
  return messagePage(
    'Sign in to the partner portal',
    html`<p>This link signs you in to the partner portal of <strong class="partner-name">${partnerName}</strong>.</p>
      <p>If that is not your organisation, close this page: whatever you set up there would be theirs.</p>
      <form method="post" action="/portal/sign-in/${token}">
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">The link works once; the session lasts 8 hours from now.</p>`,
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
