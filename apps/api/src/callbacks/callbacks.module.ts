import { Module } from '@nestjs/common';
import { SecretVault } from '../common/secret-vault';
import { PartnersModule } from '../partners/partners.module';
import { CallbackHealthStore } from './callback-health.store';
import { CallbackLookup } from './callback-lookup';
import { CallbacksController } from './callbacks.controller';
import { DeleteCallback } from './use-cases/delete-callback.use-case';
import { GetCallback } from './use-cases/get-callback.use-case';
import { GetSigningSecret } from './use-cases/get-signing-secret.use-case';
import { ListCallbacks } from './use-cases/list-callbacks.use-case';
import { RegisterCallback } from './use-cases/register-callback.use-case';
import { RotateSigningSecret } from './use-cases/rotate-signing-secret.use-case';

@Module({
  imports: [PartnersModule],
  controllers: [CallbacksController],
  providers: [
    SecretVault,
    CallbackHealthStore,
    CallbackLookup,
    RegisterCallback,
    ListCallbacks,
    GetCallback,
    DeleteCallback,
    GetSigningSecret,
    RotateSigningSecret,
  ],
  exports: [
    CallbackLookup,
    SecretVault,
    RegisterCallback,
    ListCallbacks,
    GetCallback,
    DeleteCallback,
    GetSigningSecret,
    RotateSigningSecret,
  ],
})
export class CallbacksModule {}
