import { Body, Controller, Get, Post, Query, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ListNotificationsQueryDto, type NotificationDetailDto, notificationTypeName, serializeEnvelope } from '@callbacks/contracts';
import { Audience } from '../auth/principal';
import { DomainError } from '../common/domain-error';
import { parseNotificationTypeId, UuidParam } from '../common/params';
import { RateLimit } from '../common/rate-limit.guard';
import { DtoValidationPipe } from '../common/validation';
import { GetNotification } from '../notifications/use-cases/get-notification.use-case';
import { ListNotifications } from '../notifications/use-cases/list-notifications.use-case';
import { RedeliverNotification } from '../notifications/use-cases/redeliver-notification.use-case';
import { SendTestNotification } from '../notifications/use-cases/send-test-notification.use-case';
import { PortalErrorFilter } from './portal-error.filter';
import { formErrors, formText, notice, Portal, redirectTo, sendPage } from './portal-context';
import { type DeliveryFilters, deliveriesPage, deliveryPage, echoExample, echoPage, type EchoFormState } from './views/deliveries.view';
import { groupErrors, portalPath, type PortalContext } from './views/layout';

/** Rows per page of the portal's delivery log. */
const PAGE_SIZE = 20;
/** A pending delivery's page reloads itself while its next attempt is this close. */
const REFRESH_WINDOW_MS = 60_000;
const CASE_FIELDS = ['processUniqueId', 'simulationUniqueId'];
const FILTER_FIELDS = ['status', 'notificationTypeId', 'processUniqueId', 'simulationUniqueId'];

function echoInput(field: string): string {
  if (field === 'notificationTypeId' || CASE_FIELDS.includes(field)) return field;
  return field === 'form' ? 'form' : 'otherFields';
}

function filterInput(field: string): string {
  return FILTER_FIELDS.includes(field) ? field : 'form';
}

/** "Other payload fields": a JSON object, or the field's own error. */
function parseOtherFields(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw DomainError.validation([{ field: 'otherFields', message: 'is not valid JSON' }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw DomainError.validation([{ field: 'otherFields', message: 'must be a JSON object' }]);
  return value as Record<string, unknown>;
}

/** The envelope as the worker signs and sends it, indented for reading. */
export function signedEnvelope(detail: NotificationDetailDto, partnerId: string): string {
  const head = {
    type: notificationTypeName(detail.notificationTypeId),
    notificationTypeId: detail.notificationTypeId,
    timestamp: detail.createdAt,
    partnerUniqueId: partnerId,
    test: detail.test,
  };
  return JSON.stringify(JSON.parse(serializeEnvelope(head, JSON.stringify(detail.payload))), null, 2);
}

/** The test echo, the delivery log and a delivery's page: the API's notification use cases, behind HTML. */
@ApiExcludeController()
@UseFilters(PortalErrorFilter)
@Audience('partner')
@Controller('portal/:partnerUniqueID')
export class PortalDeliveriesController {
  private readonly validation = new DtoValidationPipe();

  constructor(
    private readonly sendTestNotification: SendTestNotification,
    private readonly listNotifications: ListNotifications,
    private readonly getNotification: GetNotification,
    private readonly redeliverNotification: RedeliverNotification,
  ) {}

  @Get('echo')
  echoForm(@Portal() portal: PortalContext, @Res() response: Response): void {
    sendPage(response, echoPage(portal, echoExample(5)));
  }

  @Post('echo')
  @RateLimit('echo')
  async echo(@Portal() portal: PortalContext, @Body() form: Record<string, unknown>, @Res() response: Response): Promise<void> {
    const state: EchoFormState = {
      notificationTypeId: formText(form, 'notificationTypeId'),
      processUniqueId: formText(form, 'processUniqueId'),
      simulationUniqueId: formText(form, 'simulationUniqueId'),
      otherFields: formText(form, 'otherFields'),
      errors: {},
    };
    try {
      const notificationTypeId = parseNotificationTypeId(state.notificationTypeId, 'notificationTypeId');
      const payload = {
        ...(state.processUniqueId ? { processUniqueId: state.processUniqueId } : {}),
        ...(state.simulationUniqueId ? { simulationUniqueId: state.simulationUniqueId } : {}),
        ...parseOtherFields(state.otherFields),
      };
      const accepted = await this.sendTestNotification.execute(portal.partnerId, notificationTypeId, payload, JSON.stringify(payload));
      redirectTo(response, portalPath(portal, `/deliveries/${accepted.notificationId}?done=echo`));
    } catch (error) {
      const errors = formErrors(error);
      if (!errors) throw error;
      state.errors = groupErrors(errors, echoInput);
      sendPage(response, echoPage(portal, state), 400);
    }
  }

  @Get('deliveries')
  async deliveries(@Portal() portal: PortalContext, @Query() query: Record<string, unknown>, @Res() response: Response): Promise<void> {
    const filters: DeliveryFilters = {
      status: formText(query, 'status'),
      notificationTypeId: formText(query, 'notificationTypeId'),
      processUniqueId: formText(query, 'processUniqueId'),
      simulationUniqueId: formText(query, 'simulationUniqueId'),
    };
    const cursor = formText(query, 'cursor');
    const given = Object.fromEntries(Object.entries({ ...filters, cursor }).filter(([, value]) => value !== ''));
    try {
      const listQuery = this.validation.transform(
        { ...given, limit: String(PAGE_SIZE) },
        { type: 'query', metatype: ListNotificationsQueryDto },
      ) as ListNotificationsQueryDto;
      const page = await this.listNotifications.execute(portal.partnerId, listQuery);
      sendPage(response, deliveriesPage(portal, filters, page, {}, cursor !== ''));
    } catch (error) {
      const errors = formErrors(error);
      if (!errors) throw error;
      sendPage(response, deliveriesPage(portal, filters, null, groupErrors(errors, filterInput), cursor !== ''), 400);
    }
  }

  @Get('deliveries/:notificationId')
  async delivery(
    @Portal() portal: PortalContext,
    @UuidParam('notificationId') notificationId: string,
    @Query('done') done: unknown,
    @Res() response: Response,
  ): Promise<void> {
    const detail = await this.getNotification.execute(portal.partnerId, notificationId);
    const dueSoon =
      detail.status === 'pending' && (detail.nextAttemptAt === null || Date.parse(detail.nextAttemptAt) - Date.now() < REFRESH_WINDOW_MS);
    sendPage(response, deliveryPage(portal, detail, signedEnvelope(detail, portal.partnerId), { notice: notice(done), refresh: dueSoon }));
  }

  @Post('deliveries/:notificationId/redeliver')
  @RateLimit('echo')
  async redeliver(
    @Portal() portal: PortalContext,
    @UuidParam('notificationId') notificationId: string,
    @Res() response: Response,
  ): Promise<void> {
    await this.redeliverNotification.execute(portal.partnerId, notificationId, portal.origin);
    redirectTo(response, portalPath(portal, `/deliveries/${notificationId}?done=redelivered`));
  }
}
