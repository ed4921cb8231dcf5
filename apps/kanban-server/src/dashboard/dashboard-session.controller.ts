import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Inject, Logger, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { AllowsAnonymous, RequiresToken, RoleCredentials, SESSION_TTL_MS, setSessionCookies, type AccessRole, type AuthenticatedRequest, type ExpressRequest } from '../auth';
import { SERVER_CONFIG, type ServerConfig } from '../config';
import { ApiErrors, ApiTokenRequired, DashboardRoleSchema, DashboardSessionSchema, JSON_BODY_ERRORS } from '../openapi';
import { LoginDto } from './dto/login.dto';

/** `/dashboard/session`: exchanges a token for a signed session cookie, tells the page its role, logs out. */
@ApiTags('dashboard')
@Controller('dashboard/session')
export class DashboardSessionController {
  private readonly logger = new Logger(DashboardSessionController.name);
  private readonly credentials: RoleCredentials;

  constructor(@Inject(SERVER_CONFIG) config: ServerConfig) {
    this.credentials = new RoleCredentials(config);
  }

  /** 200 `{role}` with the HttpOnly session cookie and the CSRF cookie; 401 for a wrong token. */
  @Post()
  @AllowsAnonymous()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Log in to the dashboard: exchange a token for an 8 h session cookie and its CSRF cookie' })
  @ApiOkResponse({ type: DashboardRoleSchema })
  @ApiErrors(...JSON_BODY_ERRORS, 'unauthorized')
  login(@Body() dto: LoginDto, @Req() request: ExpressRequest, @Res({ passthrough: true }) response: ServerResponse): { role: AccessRole } {
    const opened = this.credentials.open(dto.token, Date.now() + SESSION_TTL_MS);
    if (!opened) {
      this.logger.warn(`Dashboard login refused from ${request.ip}`);
      throw new UnauthorizedException('The token is not valid');
    }
    setSessionCookies(request, response, opened.session, opened.csrf, SESSION_TTL_MS);
    this.logger.log(`Dashboard login as ${opened.role} from ${request.ip}`);
    return { role: opened.role };
  }

  /** The caller's role, and whether the server asks for a token at all (without one: loopback only). */
  @Get()
  @RequiresToken()
  @ApiOperation({ summary: "The caller's role, and whether the server asks for a token" })
  @ApiOkResponse({ type: DashboardSessionSchema })
  @ApiTokenRequired()
  @ApiErrors()
  whoAmI(@Req() request: AuthenticatedRequest): { role: AccessRole; authRequired: boolean } {
    return { role: request.kanbanRole ?? 'read_only', authRequired: this.credentials.required };
  }

  @Delete()
  @AllowsAnonymous()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Log out: clear the session and CSRF cookies' })
  @ApiNoContentResponse()
  @ApiErrors()
  logout(@Req() request: ExpressRequest, @Res({ passthrough: true }) response: ServerResponse): void {
    setSessionCookies(request, response, '', '', 0);
  }
}
