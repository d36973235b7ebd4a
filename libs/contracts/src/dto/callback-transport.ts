import { X509Certificate } from 'node:crypto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, registerDecorator, type ValidationOptions } from 'class-validator';

/** How a callback's deliveries are signed (Standard Webhooks): v1 (HMAC-SHA256), v1a (ed25519), or both side by side. */
export const SIGNATURE_SCHEMES = ['hmac', 'ed25519', 'both'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const AUTH_TYPES = ['oauth2_client_credentials'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** A callback's OAuth2 client credentials as stored and shown: everything but the secret. */
export interface CallbackAuthConfig {
  type: AuthType;
  tokenUrl: string;
  clientId: string;
  scope: string | null;
}

export const MAX_CA_CERTIFICATE_LENGTH = 16 * 1024;
export const MAX_CA_CERTIFICATES = 5;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * What is wrong with a callback's `tls.caCertificate`, or null: PEM text of 1 to 5 certificates and
 * nothing else (a private key pasted by mistake is refused, and not echoed), each a CA certificate
 * (basicConstraints CA:TRUE) that has not expired. Every TLS connection of the callback parses it,
 * so its size is bounded.
 */
export function caCertificateProblem(value: unknown, now = Date.now()): string | null {
  if (typeof value !== 'string') return 'must be a string of PEM certificates';
  if (value.length > MAX_CA_CERTIFICATE_LENGTH) return `must be at most ${MAX_CA_CERTIFICATE_LENGTH} characters`;
  const blocks = [...value.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return 'must be PEM text (-----BEGIN CERTIFICATE----- …)';
  if (blocks.some((block) => block[1] !== 'CERTIFICATE')) return 'must hold certificates only (no keys or other PEM blocks)';
  if (value.replace(PEM_BLOCK, '').trim() !== '') return 'must hold nothing but PEM certificates';
  if (blocks.length > MAX_CA_CERTIFICATES) return `at most ${MAX_CA_CERTIFICATES} certificates`;
  for (const [index, [pem]] of blocks.entries()) {
    const which = blocks.length > 1 ? `certificate ${index + 1}` : 'the certificate';
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      return `${which} does not parse`;
    }
    if (!certificate.ca) return `${which} is not a CA certificate (basicConstraints CA:TRUE)`;
    if (Date.parse(certificate.validTo) < now) return `${which} expired on ${new Date(certificate.validTo).toISOString()}`;
  }
  return null;
}

/** class-validator rule for caCertificateProblem. */
export function IsCaCertificate(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCaCertificate',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => caCertificateProblem(value) === null,
        defaultMessage: (args) => `${args?.property} ${caCertificateProblem(args?.value)}`,
      },
    });
}

export class CallbackTlsDto {
  @ApiProperty({
    description:
      `PEM of the CA certificate(s) (1 to ${MAX_CA_CERTIFICATES}, at most ${MAX_CA_CERTIFICATE_LENGTH} characters) that the endpoint's ` +
      'certificate must chain to, for endpoints behind a private CA. Replaces the public roots for this callback. Each must be a CA ' +
      'certificate (basicConstraints CA:TRUE) that has not expired.',
    example: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU…\n-----END CERTIFICATE-----\n',
  })
  @IsCaCertificate()
  caCertificate: string;
}

// RFC 6749 appendix A: client_id and client_secret are VSCHAR (%x20-7E); a scope is space-separated
// NQCHAR tokens (%x21 / %x23-5B / %x5D-7E).
const VSCHAR = /^[\x20-\x7e]+$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export class CallbackAuthDto {
  @ApiProperty({ enum: AUTH_TYPES, example: 'oauth2_client_credentials' })
  @IsIn([...AUTH_TYPES])
  type: AuthType;

  @ApiProperty({
    description:
      'The token endpoint: an absolute https URL on a public host, like callbackUrl (checked again, after DNS, at every token request).',
    example: 'https://auth.partner.example.com/oauth2/token',
  })
  @IsString()
  @MinLength(1)
  tokenUrl: string;

  @ApiProperty({ example: 'partner-callbacks', maxLength: 256 })
  @IsString()
  @Matches(VSCHAR, { message: 'clientId must be 1 to 256 printable ASCII characters' })
  @MaxLength(256)
  clientId: string;

  @ApiPropertyOptional({
    description:
      'Write-only: stored encrypted, never returned. Required when auth is first set or when tokenUrl or clientId changes; ' +
      'omitted otherwise, the stored secret is kept.',
    example: 'c2VjcmV0LXNob3duLW9uY2U',
    maxLength: 512,
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @Matches(VSCHAR, { message: 'clientSecret must be 1 to 512 printable ASCII characters' })
  @MaxLength(512)
  clientSecret?: string;

  @ApiPropertyOptional({ description: 'Space-separated scopes asked for; none by default.', example: 'webhooks:write', maxLength: 512 })
  @IsOptional()
  @IsString()
  @Matches(SCOPE, { message: 'scope must be space-separated scope tokens' })
  @MaxLength(512)
  scope?: string;
}

export class PublicKeyDto {
  @ApiProperty({
    description: 'The ed25519 public key that verifies v1a signatures: "whpk_" + base64 of the raw 32-byte key.',
    example: 'whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
  })
  publicKey: string;

  @ApiPropertyOptional({
    description: 'For 24 hours after a rotation: the key before it, which still signs alongside (a second v1a entry).',
    example: 'whpk_hGw1u9T2nmcD0vUQ5eO2I7gM7ZzAaUbLv4H1iTz8XEk=',
  })
  previousPublicKey?: string;
}
