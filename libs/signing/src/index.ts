export * from './webhook-signature';
export * from './secret-cipher';
export * from './callback-headers-cipher';
export * from './ed25519-signature';
