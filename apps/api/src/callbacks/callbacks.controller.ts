import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  CallbackCreatedDto,
  CallbackDto,
  CallbackListDto,
  ListCallbacksQueryDto,
  PublicKeyDto,
  PutCallbackDto,
  RotatedSigningKeysDto,
  SigningSecretDto,
  SUPPORTED_NOTIFICATION_TYPE_IDS,
} from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { NotificationTypeParam, PartnerIdParam } from '../common/params';
import { DeleteCallback } from './use-cases/delete-callback.use-case';
import { GetCallback } from './use-cases/get-callback.use-case';
import { GetPublicKey } from './use-cases/get-public-key.use-case';
import { GetSigningSecret } from './use-cases/get-signing-secret.use-case';
import { ListCallbacks } from './use-cases/list-callbacks.use-case';
import { RegisterCallback } from './use-cases/register-callback.use-case';
import { RotateSigningSecret } from './use-cases/rotate-signing-secret.use-case';

const TYPE_PARAM = { name: 'notificationType', enum: [...SUPPORTED_NOTIFICATION_TYPE_IDS], description: 'Notification type id' };

@ApiTags('Callbacks')
@ApiBearerAuth()
@ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
@Audience('partner')
@Controller(':partnerUniqueID/callbacks')
export class CallbacksController {
  constructor(
    private readonly registerCallback: RegisterCallback,
    private readonly listCallbacks: ListCallbacks,
    private readonly getCallback: GetCallback,
    private readonly deleteCallback: DeleteCallback,
    private readonly getSigningSecret: GetSigningSecret,
    private readonly rotateSigningSecret: RotateSigningSecret,
    private readonly getPublicKey: GetPublicKey,
  ) {}

  @Put(':notificationType')
  @ApiOperation({ summary: 'Create or replace the callback for a notification type' })
  @ApiParam(TYPE_PARAM)
  @ApiCreatedResponse({ type: CallbackCreatedDto, description: 'Created; carries the signing secret' })
  @ApiOkResponse({ type: CallbackDto, description: 'Updated' })
  @ApiProblems(400, 401, 403, 404, 413, 415)
  async put(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Body() body: PutCallbackDto,
    @AuditedBy() origin: AuditOrigin,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CallbackDto> {
    const result = await this.registerCallback.execute(partnerId, notificationTypeId, body, origin);
    response.status(result.created ? 201 : 200);
    return result.callback;
  }

  @Get()
  @ApiOperation({ summary: 'List the partner’s callbacks' })
  @ApiOkResponse({ type: CallbackListDto })
  @ApiProblems(400, 401, 403, 404)
  list(@PartnerIdParam() partnerId: string, @Query() query: ListCallbacksQueryDto): Promise<CallbackListDto> {
    return this.listCallbacks.execute(partnerId, query.offset, query.limit);
  }

  @Get(':notificationType')
  @ApiOperation({ summary: 'Read one callback' })
  @ApiParam(TYPE_PARAM)
  @ApiOkResponse({ type: CallbackDto })
  @ApiProblems(400, 401, 403, 404)
  get(@PartnerIdParam() partnerId: string, @NotificationTypeParam('notificationType') notificationTypeId: number): Promise<CallbackDto> {
    return this.getCallback.execute(partnerId, notificationTypeId);
  }

  @Delete(':notificationType')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a callback; 404 when none is configured' })
  @ApiParam(TYPE_PARAM)
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 403, 404)
  delete(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @AuditedBy() origin: AuditOrigin,
  ): Promise<void> {
    return this.deleteCallback.execute(partnerId, notificationTypeId, origin);
  }

  @Get(':notificationType/secret')
  @ApiOperation({ summary: 'Read the signing secret' })
  @ApiParam(TYPE_PARAM)
  @ApiOkResponse({ type: SigningSecretDto })
  @ApiProblems(400, 401, 403, 404)
  secret(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @AuditedBy() origin: AuditOrigin,
  ): Promise<SigningSecretDto> {
    return this.getSigningSecret.execute(partnerId, notificationTypeId, origin);
  }

  @Post(':notificationType/secret/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Rotate the signing secret (and, for an ed25519 or both callback, its key pair); for 24 hours deliveries are signed with both the new and the old one',
  })
  @ApiParam(TYPE_PARAM)
  @ApiOkResponse({ type: RotatedSigningKeysDto })
  @ApiProblems(400, 401, 403, 404)
  rotateSecret(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @AuditedBy() origin: AuditOrigin,
  ): Promise<RotatedSigningKeysDto> {
    return this.rotateSigningSecret.execute(partnerId, notificationTypeId, origin);
  }

  @Get(':notificationType/public-key')
  @ApiOperation({
    summary:
      'The ed25519 public key that verifies v1a signatures (and the previous one for 24 hours after a rotation); 404 for an hmac-only callback',
  })
  @ApiParam(TYPE_PARAM)
  @ApiOkResponse({ type: PublicKeyDto })
  @ApiProblems(400, 401, 403, 404)
  publicKey(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
  ): Promise<PublicKeyDto> {
    return this.getPublicKey.execute(partnerId, notificationTypeId);
  }
}
