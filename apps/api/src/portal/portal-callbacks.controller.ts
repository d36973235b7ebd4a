import { Body, Controller, Get, Inject, Post, Query, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import {
  type CallbackDto,
  findNotificationType,
  MAX_PAGE_LIMIT,
  type PublicKeyDto,
  PutCallbackDto,
  RecoverNotificationsDto,
  SIGNATURE_SCHEMES,
  type SignatureScheme,
} from '@callbacks/contracts';
import { Audience } from '../auth/principal';
import { DomainError } from '../common/domain-error';
import { RateLimit } from '../common/rate-limit.guard';
import { NotificationTypeParam } from '../common/params';
import { DtoValidationPipe } from '../common/validation';
import { DeleteCallback } from '../callbacks/use-cases/delete-callback.use-case';
import { GetCallback } from '../callbacks/use-cases/get-callback.use-case';
import { GetPublicKey } from '../callbacks/use-cases/get-public-key.use-case';
import { GetSigningSecret } from '../callbacks/use-cases/get-signing-secret.use-case';
import { ListCallbacks } from '../callbacks/use-cases/list-callbacks.use-case';
import { RegisterCallback } from '../callbacks/use-cases/register-callback.use-case';
import { RotateSigningSecret } from '../callbacks/use-cases/rotate-signing-secret.use-case';
import { RecoverNotifications } from '../notifications/use-cases/recover-notifications.use-case';
import { PortalErrorFilter } from './portal-error.filter';
import { formErrors, formText, notice, Portal, redirectTo, sendPage } from './portal-context';
import {
  callbacksPage,
  type CallbackFormState,
  type DeliveryDefaults,
  overviewPage,
  recoverPage,
  type RecoverFormState,
  rotateConfirmPage,
  secretPage,
} from './views/callbacks.view';
import { groupErrors, portalPath, type PortalContext } from './views/layout';

type Form = Record<string, unknown>;

/** "Name: value" lines into a headers object; the API's own rules are checked after. */
export function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw DomainError.validation([{ field: 'headers', message: `line ${index + 1} must be written as "Name: value"` }]);
    const name = line.slice(0, colon).trim();
    if (Object.hasOwn(headers, name)) throw DomainError.validation([{ field: 'headers', message: `"${name}" is given twice` }]);
    headers[name] = line.slice(colon + 1).trim();
  });
  return headers;
}

const AUTH_INPUTS: Record<string, string> = {
  'auth.tokenUrl': 'authTokenUrl',
  'auth.clientId': 'authClientId',
  'auth.clientSecret': 'authClientSecret',
  'auth.scope': 'authScope',
};

const DELIVERY_INPUTS: Record<string, string> = {
  'delivery.ordering': 'deliveryOrdering',
  'delivery.maxInFlight': 'deliveryMaxInFlight',
  'delivery.ratePerSecond': 'deliveryRatePerSecond',
  'delivery.timeoutMs': 'deliveryTimeoutMs',
};

/** A number input: empty is "not chosen" (the default); anything but digits goes to the API as typed, whose validation names it. */
function numberInput(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** Which input an API validation error belongs beside. */
function callbackInput(field: string): string {
  if (field === 'callbackUrl' || field === 'enabled' || field === 'signature') return field;
  if (field.startsWith('delivery')) return DELIVERY_INPUTS[field] ?? 'form';
  if (field.startsWith('tls')) return 'caCertificate';
  if (field.startsWith('auth')) return AUTH_INPUTS[field] ?? 'auth';
  return field.startsWith('headers') ? 'headers' : 'form';
}

/** The PUT body a callback form stands for (the API's validation runs on it next). */
function callbackBody(state: CallbackFormState, clientSecret: string): Record<string, unknown> {
  return {
    callbackUrl: state.callbackUrl,
    headers: parseHeaderLines(state.headersText),
    enabled: state.enabled,
    signature: state.signature,
    ...(state.caCertificate.trim() ? { tls: { caCertificate: state.caCertificate.trim() + '\n' } } : {}),
    delivery: {
      ordering: state.deliveryOrdering,
      maxInFlight: numberInput(state.deliveryMaxInFlight),
      // Empty: no rate limit.
      ratePerSecond: numberInput(state.deliveryRatePerSecond) ?? null,
      timeoutMs: numberInput(state.deliveryTimeoutMs),
    },
    ...(state.authEnabled
      ? {
          auth: {
            type: 'oauth2_client_credentials',
            tokenUrl: state.authTokenUrl,
            clientId: state.authClientId,
            ...(clientSecret ? { clientSecret } : {}),
            ...(state.authScope ? { scope: state.authScope } : {}),
          },
        }
      : {}),
  };
}

/** The overview and the callbacks pages: the API's callback use cases, behind HTML forms. */
@ApiExcludeController()
@UseFilters(PortalErrorFilter)
@Audience('partner')
@Controller('portal/:partnerUniqueID')
export class PortalCallbacksController {
  private readonly validation = new DtoValidationPipe();

  constructor(
    private readonly listCallbacks: ListCallbacks,
    private readonly getCallback: GetCallback,
    private readonly registerCallback: RegisterCallback,
    private readonly deleteCallback: DeleteCallback,
    private readonly getSigningSecret: GetSigningSecret,
    private readonly rotateSigningSecret: RotateSigningSecret,
    private readonly recoverNotifications: RecoverNotifications,
    private readonly getPublicKey: GetPublicKey,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get deliveryDefaults(): DeliveryDefaults {
    return { maxInFlight: this.config.callbackMaxInFlight, timeoutMs: this.config.deliveryTimeoutMs };
  }

  @Get()
  async overview(@Portal() portal: PortalContext, @Query('done') done: unknown, @Res() response: Response): Promise<void> {
    sendPage(response, overviewPage(portal, await this.callbacks(portal), notice(done)));
  }

  @Get('callbacks')
  async list(@Portal() portal: PortalContext, @Query('done') done: unknown, @Res() response: Response): Promise<void> {
    const callbacks = await this.callbacks(portal);
    sendPage(
      response,
      callbacksPage(portal, callbacks, {
        notice: notice(done),
        publicKeys: await this.publicKeys(portal, callbacks),
        defaults: this.deliveryDefaults,
      }),
    );
  }

  @Post('callbacks/:notificationType')
  async save(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Body() form: Form,
    @Res() response: Response,
  ): Promise<void> {
    const signature = formText(form, 'signature');
    const state: CallbackFormState = {
      notificationTypeId,
      callbackUrl: formText(form, 'callbackUrl'),
      headersText: formText(form, 'headers'),
      enabled: formText(form, 'enabled') === 'true',
      signature: SIGNATURE_SCHEMES.includes(signature as SignatureScheme) ? (signature as SignatureScheme) : 'hmac',
      caCertificate: formText(form, 'caCertificate'),
      authEnabled: formText(form, 'authEnabled') === 'true',
      authTokenUrl: formText(form, 'authTokenUrl').trim(),
      authClientId: formText(form, 'authClientId').trim(),
      authScope: formText(form, 'authScope').trim(),
      deliveryOrdering: formText(form, 'deliveryOrdering') === 'case' ? 'case' : 'none',
      deliveryMaxInFlight: formText(form, 'deliveryMaxInFlight'),
      deliveryRatePerSecond: formText(form, 'deliveryRatePerSecond'),
      deliveryTimeoutMs: formText(form, 'deliveryTimeoutMs'),
      errors: {},
    };
    try {
      const body = this.validation.transform(callbackBody(state, formText(form, 'authClientSecret')), {
        type: 'body',
        metatype: PutCallbackDto,
      }) as PutCallbackDto;
      const result = await this.registerCallback.execute(portal.partnerId, notificationTypeId, body, portal.origin);
      redirectTo(response, this.callbacksUrl(portal, result.created ? 'created' : 'saved', notificationTypeId));
    } catch (error) {
      const errors = formErrors(error);
      if (!errors) throw error;
      state.errors = groupErrors(errors, callbackInput);
      const callbacks = await this.callbacks(portal);
      sendPage(
        response,
        callbacksPage(portal, callbacks, {
          form: state,
          publicKeys: await this.publicKeys(portal, callbacks),
          defaults: this.deliveryDefaults,
        }),
        400,
      );
    }
  }

  @Post('callbacks/:notificationType/enable')
  enable(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Res() response: Response,
  ): Promise<void> {
    return this.setEnabled(portal, notificationTypeId, true, response);
  }

  @Post('callbacks/:notificationType/disable')
  disable(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Res() response: Response,
  ): Promise<void> {
    return this.setEnabled(portal, notificationTypeId, false, response);
  }

  @Post('callbacks/:notificationType/delete')
  async delete(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Res() response: Response,
  ): Promise<void> {
    await this.deleteCallback.execute(portal.partnerId, notificationTypeId, portal.origin);
    redirectTo(response, this.callbacksUrl(portal, 'deleted', notificationTypeId));
  }

  @Get('callbacks/:notificationType/secret')
  async secret(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Query('done') done: unknown,
    @Res() response: Response,
  ): Promise<void> {
    const { signingSecret } = await this.getSigningSecret.execute(portal.partnerId, notificationTypeId, portal.origin);
    sendPage(response, secretPage(portal, findNotificationType(notificationTypeId)!, signingSecret, notice(done)));
  }

  @Get('callbacks/:notificationType/rotate')
  async confirmRotation(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Res() response: Response,
  ): Promise<void> {
    await this.getCallback.execute(portal.partnerId, notificationTypeId);
    sendPage(response, rotateConfirmPage(portal, findNotificationType(notificationTypeId)!));
  }

  @Post('callbacks/:notificationType/secret/rotate')
  async rotate(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Res() response: Response,
  ): Promise<void> {
    await this.rotateSigningSecret.execute(portal.partnerId, notificationTypeId, portal.origin);
    redirectTo(response, portalPath(portal, `/callbacks/${notificationTypeId}/secret?done=rotated`));
  }

  @Get('callbacks/:notificationType/recover')
  async recoverForm(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Res() response: Response,
  ): Promise<void> {
    await this.getCallback.execute(portal.partnerId, notificationTypeId);
    const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
    sendPage(response, recoverPage(portal, findNotificationType(notificationTypeId)!, { since: dayAgo, until: '', errors: {} }));
  }

  @Post('callbacks/:notificationType/recover')
  @RateLimit('echo')
  async recover(
    @Portal() portal: PortalContext,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Body() form: Form,
    @Res() response: Response,
  ): Promise<void> {
    const state: RecoverFormState = { since: formText(form, 'since').trim(), until: formText(form, 'until').trim(), errors: {} };
    try {
      const body = this.validation.transform(
        { since: state.since, ...(state.until ? { until: state.until } : {}) },
        { type: 'body', metatype: RecoverNotificationsDto },
      ) as RecoverNotificationsDto;
      await this.recoverNotifications.execute({ partnerId: portal.partnerId, notificationTypeId }, body, portal.origin);
      redirectTo(response, this.callbacksUrl(portal, 'recovering', notificationTypeId));
    } catch (error) {
      const errors = formErrors(error);
      if (!errors) throw error;
      state.errors = groupErrors(errors, (field) => (field === 'since' || field === 'until' ? field : 'form'));
      sendPage(response, recoverPage(portal, findNotificationType(notificationTypeId)!, state), 400);
    }
  }

  /**
   * Enabling or disabling is a PUT of the callback as it is, with the flag changed: the API's way.
   * auth goes without its secret, which the PUT keeps (same token URL and client).
   */
  private async setEnabled(portal: PortalContext, notificationTypeId: number, enabled: boolean, response: Response): Promise<void> {
    const callback = await this.getCallback.execute(portal.partnerId, notificationTypeId);
    await this.registerCallback.execute(
      portal.partnerId,
      notificationTypeId,
      {
        callbackUrl: callback.callbackUrl,
        headers: callback.headers,
        enabled,
        signature: callback.signature,
        tls: callback.tls,
        auth: callback.auth ? { ...callback.auth, scope: callback.auth.scope ?? undefined } : null,
        delivery: callback.delivery,
      },
      portal.origin,
    );
    redirectTo(response, this.callbacksUrl(portal, enabled ? 'enabled' : 'disabled', notificationTypeId));
  }

  private async publicKeys(portal: PortalContext, callbacks: CallbackDto[]): Promise<Map<number, PublicKeyDto>> {
    const signed = callbacks.filter((callback) => callback.signature !== 'hmac');
    const keys = await Promise.all(signed.map((callback) => this.getPublicKey.execute(portal.partnerId, callback.notificationTypeId)));
    return new Map(signed.map((callback, index) => [callback.notificationTypeId, keys[index]]));
  }

  private async callbacks(portal: PortalContext): Promise<CallbackDto[]> {
    return (await this.listCallbacks.execute(portal.partnerId, 0, MAX_PAGE_LIMIT)).items;
  }

  private callbacksUrl(portal: PortalContext, done: string, notificationTypeId: number): string {
    return portalPath(portal, `/callbacks?done=${done}#type-${notificationTypeId}`);
  }
}
