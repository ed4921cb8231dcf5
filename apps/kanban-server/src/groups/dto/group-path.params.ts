import { ApiProperty } from '@nestjs/swagger';
import { DOMAIN_PROPERTY, GROUP_PROPERTY } from '../../openapi/schemas';
import { IsKanbanDomain, IsKanbanGroup } from '../../validation';

/** `/groups/:domain` */
export class GroupDomainParams {
  @ApiProperty(DOMAIN_PROPERTY)
  @IsKanbanDomain()
  domain!: string;
}

/** `/groups/:domain/:group/limits` */
export class GroupPathParams extends GroupDomainParams {
  @ApiProperty(GROUP_PROPERTY)
  @IsKanbanGroup()
  group!: string;
}
