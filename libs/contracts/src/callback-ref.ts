/**
 * A callback is one partner's registration for one notification type; this names it everywhere in
 * the code. On the wire the partner is `partnerUniqueId` (JSON bodies, operator-event data, job data)
 * or `partnerUniqueID` (routes): those spellings stay at the edges.
 */
export interface CallbackRef {
  partnerId: string;
  notificationTypeId: number;
}
