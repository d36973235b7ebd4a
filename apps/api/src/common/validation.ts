import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { type FieldError, inspectJson } from '@callbacks/contracts';
import { DomainError } from './domain-error';

/**
 * class-validator starts messages with the property name, or with a path inside the property
 * ("headers.Expect is …", from a validator that names the part at fault); the field is named
 * separately, so that prefix moves from the message to the field.
 */
function fieldError(property: string, field: string, constraint: string): FieldError {
  const space = constraint.indexOf(' ');
  const first = space < 0 ? '' : constraint.slice(0, space);
  if (first === property) return { field, message: constraint.slice(space + 1) };
  if (first.startsWith(`${property}.`)) return { field: `${field}${first.slice(property.length)}`, message: constraint.slice(space + 1) };
  return { field, message: constraint };
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((constraint) => fieldError(error.property, field, constraint));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Unknown fields are refused, not silently dropped: a typo in a field name must not go unnoticed. */
function unknownFieldErrors(errors: FieldError[]): FieldError[] {
  return errors.map((error) =>
    error.message.startsWith('property ') && error.message.endsWith(' should not exist')
      ? { ...error, message: 'is not a known field' }
      : error,
  );
}

/** Checks a plain object against a DTO class; errors name `prefix.field`. Unknown fields are errors too. */
export function validateDto(dto: new () => object, value: object, prefix = ''): { instance: object; errors: FieldError[] } {
  const instance = plainToInstance(dto, value) as object;
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return { instance, errors: unknownFieldErrors(flatten(errors, prefix)) };
}

/**
 * Validates bodies and queries against their DTO classes. Every body is first inspected for depth,
 * prototype keys and NUL characters; DTO bodies must be JSON objects; fields are never coerced
 * (a "true" string is not a boolean); query strings are converted where the DTO says.
 */
@Injectable()
export class DtoValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body') {
      const problem = inspectJson(value);
      if (problem) throw DomainError.validation([problem]);
    }
    const dto = metadata.metatype;
    if (
      (metadata.type !== 'body' && metadata.type !== 'query') ||
      !dto ||
      [Object, String, Number, Boolean, Array].includes(dto as never)
    ) {
      return value;
    }
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw DomainError.validation([{ field: 'body', message: 'must be a JSON object' }]);
    }
    const { instance, errors } = validateDto(dto as new () => object, (value ?? {}) as object);
    if (errors.length > 0) throw DomainError.validation(errors);
    return instance;
  }
}
