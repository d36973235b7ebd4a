/** One invalid field in a problem+json `errors` list. */
export interface FieldError {
  field: string;
  message: string;
}
