import { Injectable } from '@nestjs/common';
import { type NotificationAcceptedDto, validateNotificationPayload } from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
import { NotificationIntake } from '../notification-intake';
import { payloadText } from '../payload-text';

/** The echo: the body is the payload, delivered to the partner's own callback marked "test": true. */
@Injectable()
export class SendTestNotification {
  constructor(private readonly intake: NotificationIntake) {}

  execute(partnerId: string, notificationTypeId: number, payload: unknown, rawBody: string): Promise<NotificationAcceptedDto> {
    const errors = validateNotificationPayload(notificationTypeId, payload);
    if (errors.length > 0) throw DomainError.validation(errors);
    return this.intake.accept({
      partnerId,
      notificationTypeId,
      payload: payload as Record<string, unknown>,
      payloadText: payloadText(rawBody, 'body'),
      test: true,
      requireCallback: true,
    });
  }
}
