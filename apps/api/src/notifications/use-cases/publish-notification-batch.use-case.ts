import { Injectable } from '@nestjs/common';
import {
  type FieldError,
  findNotificationType,
  type NotificationBatchAcceptedDto,
  type PublishNotificationBatchDto,
  PublishNotificationBatchItemDto,
  SUPPORTED_NOTIFICATION_TYPE_IDS,
  validateNotificationPayload,
} from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
import { validateDto } from '../../common/validation';
import { type IncomingNotification, NotificationIntake } from '../notification-intake';
import { batchPayloadTexts } from '../payload-text';

/** One item's fields, or what is wrong with them (named notifications[i].<field>). */
function validateItem(value: unknown, index: number): { item?: PublishNotificationBatchItemDto; errors: FieldError[] } {
  const prefix = `notifications[${index}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { errors: [{ field: prefix, message: 'must be a JSON object' }] };
  const { errors } = validateDto(PublishNotificationBatchItemDto, value, prefix);
  if (errors.length > 0) return { errors };
  const item = value as PublishNotificationBatchItemDto;
  if (!findNotificationType(item.notificationTypeId)) {
    return {
      errors: [
        {
          field: `${prefix}.notificationTypeId`,
          message: `is not a supported notification type (supported: ${SUPPORTED_NOTIFICATION_TYPE_IDS.join(', ')})`,
        },
      ],
    };
  }
  const payloadErrors = validateNotificationPayload(item.notificationTypeId, item.payload, `${prefix}.payload`);
  return payloadErrors.length > 0 ? { errors: payloadErrors } : { item, errors: [] };
}

/**
 * Platform events in bulk: 1 to 500, all or nothing. Every item is validated before anything is
 * written (a 400 lists each bad field as notifications[i].<field>); then one transaction writes
 * them all, or, when one is refused (404 partner, 422 idempotency key), none.
 */
@Injectable()
export class PublishNotificationBatch {
  constructor(private readonly intake: NotificationIntake) {}

  async execute(batch: PublishNotificationBatchDto, rawBody: string, caller: string): Promise<NotificationBatchAcceptedDto> {
    const validated = batch.notifications.map(validateItem);
    const errors = validated.flatMap((result) => result.errors);
    if (errors.length > 0) throw DomainError.validation(errors);
    const payloadTexts = batchPayloadTexts(rawBody, validated.length);
    const incoming: IncomingNotification[] = validated.map(({ item }, index) => ({
      partnerId: item!.partnerUniqueId.toLowerCase(),
      notificationTypeId: item!.notificationTypeId,
      payload: item!.payload,
      payloadText: payloadTexts[index],
      test: false,
      requireCallback: false,
      idempotency:
        item!.idempotencyKey === undefined
          ? undefined
          : { caller, key: item!.idempotencyKey, field: `notifications[${index}].idempotencyKey` },
    }));
    const outcomes = await this.intake.acceptAll(incoming);
    const results = outcomes.map((outcome, index) => {
      if (outcome.kind === 'accepted') return outcome.response;
      if (outcome.kind === 'failed') throw outcome.error;
      if (outcome.kind !== 'refused') throw new Error(`notification ${index} of the batch was not accepted: ${outcome.kind}`);
      const { status, code, detail, errors: fieldErrors } = outcome.error;
      throw new DomainError(
        status,
        code,
        `notifications[${index}]: ${detail}; nothing in this batch was stored`,
        fieldErrors ?? [{ field: `notifications[${index}].partnerUniqueId`, message: detail }],
      );
    });
    return { results };
  }
}
