export * from './address-policy';
export * from './callback-url-policy';
export * from './guarded-lookup';
