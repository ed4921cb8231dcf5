import { Module } from '@nestjs/common';
import { GroupsController } from './groups.controller';

/** `/groups`: list a domain's groups, set a group's limits. Named apart from the library's GroupsModule it fronts. */
@Module({ controllers: [GroupsController] })
export class GroupsApiModule {}
