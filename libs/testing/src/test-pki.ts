import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** PEM of the certificate. */
  cert: string;
  /** PEM (PKCS#8, unencrypted) of its private key. */
  key: string;
  certPath: string;
  keyPath: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * A private PKI made with the openssl CLI in a temporary folder, as a bank's partner would run one:
 * CAs, server certificates for loopback (IP:127.0.0.1 and DNS:localhost) and client certificates.
 * EC P-256 keys, so a whole set takes a fraction of a second.
 */
export class TestPki {
  readonly directory = mkdtempSync(join(tmpdir(), 'callbacks-pki-'));
  private serial = 1;

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.directory, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private read(name: string): TestCertificate {
    const certPath = join(this.directory, `${name}.pem`);
    const keyPath = join(this.directory, `${name}.key`);
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
  }

  /** A self-signed CA certificate (basicConstraints CA:TRUE). */
  certificateAuthority(name: string, options: { days?: number } = {}): TestCertificate {
    this.openssl([
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      String(options.days ?? 30),
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return this.read(name);
  }

  /** A leaf certificate signed by `issuer`: for a server (loopback names) or a client. */
  issue(name: string, issuer: TestCertificate, usage: 'server' | 'client'): TestCertificate {
    const extensions =
      usage === 'server'
        ? 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
        : 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';
    writeFileSync(join(this.directory, `${name}.ext`), extensions);
    this.openssl(['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    this.openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      issuer.certPath,
      '-CAkey',
      issuer.keyPath,
      '-set_serial',
      String(this.serial++),
      '-days',
      '30',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
    return this.read(name);
  }

  remove(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}
