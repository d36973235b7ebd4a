import { createParamDecorator, type ExecutionContext, Injectable, Param, type PipeTransform } from '@nestjs/common';
import { findNotificationType, unsupportedNotificationTypeDetail } from '@callbacks/contracts';
import { DomainError } from './domain-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

@Injectable()
export class PartnerIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUuid(value)) {
      throw new DomainError(400, 'invalid_partner_id', `partnerUniqueID must be a UUID, got "${String(value).slice(0, 64)}"`, [
        { field: 'partnerUniqueID', message: 'must be a UUID' },
      ]);
    }
    return value.toLowerCase();
  }
}

@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  constructor(private readonly field: string) {}

  transform(value: string): string {
    if (!isUuid(value)) {
      throw new DomainError(400, 'validation_failed', `${this.field} must be a UUID`, [{ field: this.field, message: 'must be a UUID' }]);
    }
    return value.toLowerCase();
  }
}

/** A catalog notification type id: 5, 6 or 7. */
export function parseNotificationTypeId(value: unknown, field: string): number {
  const id = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isInteger(id) || !findNotificationType(id)) {
    throw new DomainError(400, 'unsupported_notification_type', unsupportedNotificationTypeDetail(value), [
      { field, message: 'is not a supported notification type' },
    ]);
  }
  return id;
}

@Injectable()
export class NotificationTypePipe implements PipeTransform<string, number> {
  constructor(private readonly field: string) {}

  transform(value: string): number {
    return parseNotificationTypeId(value, this.field);
  }
}

/** Route parameter decorators: each validates its parameter the same way on every route. */
export const PartnerIdParam = () => Param('partnerUniqueID', PartnerIdPipe);
export const NotificationTypeParam = (name: string) => Param(name, new NotificationTypePipe(name));
export const UuidParam = (name: string) => Param(name, new UuidPipe(name));

/** The request body as the exact JSON text received (the app is created with rawBody: true). */
export const RawJsonBody = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<{ rawBody?: Buffer }>();
  return request.rawBody?.toString('utf8') ?? '';
});
