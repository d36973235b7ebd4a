import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type ClientCertificatePaths, ConfigError } from '@callbacks/config';

/** The certificate (PEM, the leaf first, intermediates may follow) and private key that deliveries present. */
export interface ClientCertificatePair {
  cert: string;
  key: string;
}

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Reads and checks WEBHOOK_CLIENT_CERT and WEBHOOK_CLIENT_KEY: both parse, and the key is the
 * certificate's. Throws a ConfigError naming the variable; the key's content is never in a message.
 * Returns the warnings worth a line at start (a certificate outside its validity period).
 */
export function readClientCertificate({ certPath, keyPath }: ClientCertificatePaths): { pair: ClientCertificatePair; warnings: string[] } {
  const cert = readPem('WEBHOOK_CLIENT_CERT', certPath);
  const key = readPem('WEBHOOK_CLIENT_KEY', keyPath);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError('WEBHOOK_CLIENT_CERT', `${certPath} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError('WEBHOOK_CLIENT_KEY', `${keyPath} is not an unencrypted PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError('WEBHOOK_CLIENT_KEY', `${keyPath} is not the private key of the certificate in WEBHOOK_CLIENT_CERT`);
  }
  const warnings: string[] = [];
  const now = Date.now();
  if (Date.parse(certificate.validTo) < now)
    warnings.push(`WEBHOOK_CLIENT_CERT expired on ${certificate.validTo}: endpoints that require it will refuse deliveries`);
  else if (Date.parse(certificate.validFrom) > now) warnings.push(`WEBHOOK_CLIENT_CERT is not valid before ${certificate.validFrom}`);
  return { pair: { cert, key }, warnings };
}

export interface ClientCertificateEvents {
  /** A new pair was read; new connections present it. */
  rotated(): void;
  /** The files changed but do not hold a matching pair (yet): the current pair stays. */
  rejected(problem: string): void;
}

/**
 * The client certificate, re-read when either file changes (polled every `pollIntervalMs`, which
 * also follows a Kubernetes secret's symlink swap). A rotation writes both files; until they match
 * again (say the certificate was replaced and the key not yet) the previous pair stays in use.
 */
export class ClientCertificateFiles {
  /** Worth a line at start (see readClientCertificate). */
  readonly warnings: string[];
  private pair: ClientCertificatePair;
  private version = 1;
  private readonly onChange = () => this.reload();

  constructor(
    private readonly paths: ClientCertificatePaths,
    private readonly events: ClientCertificateEvents,
    pollIntervalMs = 5_000,
  ) {
    ({ pair: this.pair, warnings: this.warnings } = readClientCertificate(paths));
    for (const path of [paths.certPath, paths.keyPath]) watchFile(path, { interval: pollIntervalMs, persistent: false }, this.onChange);
  }

  get current(): ClientCertificatePair {
    return this.pair;
  }

  /** Goes up by one at every rotation. */
  get generation(): number {
    return this.version;
  }

  private reload(): void {
    let pair: ClientCertificatePair;
    try {
      pair = readClientCertificate(this.paths).pair;
    } catch (error) {
      this.events.rejected((error as Error).message);
      return;
    }
    if (pair.cert === this.pair.cert && pair.key === this.pair.key) return;
    this.pair = pair;
    this.version += 1;
    this.events.rotated();
  }

  close(): void {
    for (const path of [this.paths.certPath, this.paths.keyPath]) unwatchFile(path, this.onChange);
  }
}
