import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { KanbanGroups, type GroupPage, type GroupState } from '@tps/kanban';
import { RequiresToken } from '../auth';
import { ApiErrors, ApiTokenRequired, GroupPageSchema, GroupStateSchema, JSON_BODY_ERRORS } from '../openapi';
import { GroupDomainParams, GroupPathParams } from './dto/group-path.params';
import { ListGroupsQuery } from './dto/list-groups.query';
import { SetGroupLimitsDto } from './dto/set-group-limits.dto';

/** Fair share between the groups (tenants) of a domain. Group names are tenant keys, so reads need the token too. */
@ApiTags('groups')
@Controller('groups')
@RequiresToken()
@ApiTokenRequired()
export class GroupsController {
  constructor(private readonly groups: KanbanGroups) {}

  @Get(':domain')
  @ApiOperation({ summary: 'The groups of a domain with ready, in-flight and limits, by name, a page at a time' })
  @ApiOkResponse({ type: GroupPageSchema })
  @ApiErrors('validation_failed', 'groups_unsupported', 'broker_unavailable')
  list(@Param() { domain }: GroupDomainParams, @Query() query: ListGroupsQuery): Promise<GroupPage> {
    return this.groups.listGroups(domain, query);
  }

  /** 200 with the group's state after the change; `{}` clears its limits back to the defaults. */
  @Put(':domain/:group/limits')
  @ApiOperation({ summary: "Set a group's limits for the whole fleet; {} clears them back to the defaults" })
  @ApiOkResponse({ type: GroupStateSchema })
  @ApiErrors(...JSON_BODY_ERRORS, 'groups_unsupported', 'broker_unavailable')
  setLimits(@Param() { domain, group }: GroupPathParams, @Body() dto: SetGroupLimitsDto): Promise<GroupState> {
    return this.groups.setGroupLimits(domain, group, { ...dto });
  }
}
