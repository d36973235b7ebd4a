/**
 * Why a notification was skipped while its callback was disabled: `callback_paused` when the partner
 * itself disabled it (`enabled: false`, disabledReason "partner"): it asked for nothing, and recovery
 * leaves these alone; `callback_disabled` when the service disabled it (failing, gone): the partner
 * missed these, and recovery takes them.
 */
export type DisabledSkipReason = 'callback_paused' | 'callback_disabled';

export function disabledSkipReason(disabledReason: string | null): DisabledSkipReason {
  return disabledReason === 'partner' ? 'callback_paused' : 'callback_disabled';
}
