import { Module } from '@nestjs/common';
import { CoordinatorController } from './coordinator.controller';

/** `/coordinator`: health, worker count, drain. Named apart from the library's CoordinatorModule it fronts. */
@Module({ controllers: [CoordinatorController] })
export class CoordinatorApiModule {}
