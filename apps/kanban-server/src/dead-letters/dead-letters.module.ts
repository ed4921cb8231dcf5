import { Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller';

/** `/dead-letters`: list, get, replay, purge. */
@Module({ controllers: [DeadLettersController] })
export class DeadLettersModule {}
