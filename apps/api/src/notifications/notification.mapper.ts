import type { DeliveryAttemptDto, NotificationSummaryDto } from '@callbacks/contracts';
import type { DeliveryAttemptEntity, NotificationEntity } from '@callbacks/persistence';

export function toNotificationSummary(notification: NotificationEntity): NotificationSummaryDto {
  return {
    notificationId: notification.id,
    notificationTypeId: notification.notificationTypeId,
    status: notification.status,
    attemptCount: notification.attemptCount,
    test: notification.test,
    processUniqueId: notification.processUniqueId,
    simulationUniqueId: notification.simulationUniqueId,
    createdAt: notification.createdAt.toISOString(),
    lastAttemptAt: notification.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: notification.status === 'pending' ? (notification.nextAttemptAt?.toISOString() ?? null) : null,
    sequence: notification.caseSequence,
    waitingFor: notification.status === 'pending' ? notification.waitingFor : null,
  };
}

export function toAttemptDto(attempt: DeliveryAttemptEntity): DeliveryAttemptDto {
  return {
    attempt: attempt.attempt,
    at: attempt.at.toISOString(),
    callbackUrl: attempt.callbackUrl,
    statusCode: attempt.statusCode,
    durationMs: attempt.durationMs,
    error: attempt.error,
    errorDetail: attempt.errorDetail,
    responseBody: attempt.responseBody,
  };
}
