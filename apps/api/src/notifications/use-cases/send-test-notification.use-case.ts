import { Injectable } from '@nestjs/common';
import { type NotificationAcceptedDto, validateNotificationPayload } from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
import { NotificationIntake } from '../notification-intake';

/** The echo: the body is the payload, delivered to the partner's own callback marked "test": true. */
@Injectable()
export class SendTestNotification {
  constructor(private readonly intake: NotificationIntake) {}

  execute(partnerId: string, notificationTypeId: number, payload: unknown): Promise<NotificationAcceptedDto> {
    const errors = validateNotificationPayload(notificationTypeId, payload);
    if (errors.length > 0) throw DomainError.validation(errors);
    return this.intake.accept({ partnerId, notificationTypeId, payload: payload as Record<string, unknown>, test: true, requireCallback: true });
  }
}
