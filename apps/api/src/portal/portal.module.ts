import { Module } from '@nestjs/common';
import { CallbacksModule } from '../callbacks/callbacks.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { PartnersModule } from '../partners/partners.module';
import { PortalActivityController } from './portal-activity.controller';
import { PortalCallbacksController } from './portal-callbacks.controller';
import { PortalDeliveriesController } from './portal-deliveries.controller';
import { PortalErrorFilter } from './portal-error.filter';
import { PortalLinksController } from './portal-links.controller';
import { PortalSessionController } from './portal-session.controller';
import { CreatePortalLink } from './use-cases/create-portal-link.use-case';
import { EndPartnerPortalSessions } from './use-cases/end-partner-portal-sessions.use-case';
import { EndPortalSession } from './use-cases/end-portal-session.use-case';
import { OpenPortalLink } from './use-cases/open-portal-link.use-case';
import { ShowPortalLink } from './use-cases/show-portal-link.use-case';

/**
 * The partner portal: server-rendered pages over the API's own use cases. The session controller
 * comes first so its fixed paths (/portal/signed-out) are matched before /portal/:partnerUniqueID.
 */
@Module({
  imports: [PartnersModule, CallbacksModule, NotificationsModule],
  controllers: [
    PortalSessionController,
    PortalLinksController,
    PortalCallbacksController,
    PortalDeliveriesController,
    PortalActivityController,
  ],
  providers: [PortalErrorFilter, CreatePortalLink, OpenPortalLink, EndPortalSession, EndPartnerPortalSessions, ShowPortalLink],
})
export class PortalModule {}
