import type { DeliveryToEnqueue } from '@callbacks/queue';

/**
 * Starts a new delivery round for the rows an UPDATE matches: pending again, due now, the retry
 * schedule from the start, and a new round number, so a job still waiting from an older round
 * finds itself superseded and sends nothing. The webhook-id (the notification id) stays the same.
 * Used as `UPDATE notifications SET ${NEW_DELIVERY_ROUND} WHERE … RETURNING ${NEW_ROUND_COLUMNS}`.
 */
export const NEW_DELIVERY_ROUND = `status = 'pending', status_reason = NULL, round_attempts = 0, delivery_round = delivery_round + 1,
  next_attempt_at = now(), updated_at = now()`;

export const NEW_ROUND_COLUMNS = 'id, partner_id, notification_type_id, delivery_round, test';

export interface NewRoundRow {
  id: string;
  partner_id: string;
  notification_type_id: number;
  delivery_round: number;
  test: boolean;
}

/** The job for a notification's new round. */
export function newRoundDelivery(row: NewRoundRow): DeliveryToEnqueue {
  return {
    notificationId: row.id,
    partnerId: row.partner_id,
    notificationTypeId: row.notification_type_id,
    round: row.delivery_round,
    test: row.test,
  };
}
