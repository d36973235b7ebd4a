import { Module } from '@nestjs/common';
import { ErasureController } from './erasure.controller';
import { NotificationEraser } from './notification-eraser';
import { EraseCase } from './use-cases/erase-case.use-case';

@Module({
  controllers: [ErasureController],
  providers: [NotificationEraser, EraseCase],
  exports: [NotificationEraser],
})
export class ErasureModule {}
