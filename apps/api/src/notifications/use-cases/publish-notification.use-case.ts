import { Injectable } from '@nestjs/common';
import { type NotificationAcceptedDto, type PublishNotificationDto, validateNotificationPayload } from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
import { parseNotificationTypeId } from '../../common/params';
import { type IdempotencyKey, NotificationIntake } from '../notification-intake';
import { payloadText } from '../payload-text';

/** A platform event for one partner. */
@Injectable()
export class PublishNotification {
  constructor(private readonly intake: NotificationIntake) {}

  execute(event: PublishNotificationDto, rawBody: string, idempotency?: IdempotencyKey): Promise<NotificationAcceptedDto> {
    const notificationTypeId = parseNotificationTypeId(event.notificationTypeId, 'notificationTypeId');
    const errors = validateNotificationPayload(notificationTypeId, event.payload, 'payload');
    if (errors.length > 0) throw DomainError.validation(errors);
    return this.intake.accept({
      partnerId: event.partnerUniqueId.toLowerCase(),
      notificationTypeId,
      payload: event.payload,
      payloadText: payloadText(rawBody, 'payload', 'payload'),
      test: false,
      requireCallback: false,
      idempotency,
    });
  }
}
