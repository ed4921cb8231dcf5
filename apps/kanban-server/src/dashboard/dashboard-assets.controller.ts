import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiErrors } from '../openapi';
import { DASHBOARD_ASSETS_DIR, DASHBOARD_CONTENT_SECURITY_POLICY } from './dashboard.constants';

/** Read once at start-up: the page is three small files shipped with the server. */
function asset(name: string): string {
  return readFileSync(join(DASHBOARD_ASSETS_DIR, name), 'utf8');
}

/**
 * `/dashboard`: the operator page, served without a token (it holds no data) so the login form
 * can load; everything it shows comes from the API with the session cookie.
 */
@ApiTags('dashboard')
@Controller('dashboard')
export class DashboardAssetsController {
  private readonly html = asset('index.html');
  private readonly script = asset('app.js');
  private readonly styles = asset('app.css');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('Content-Security-Policy', DASHBOARD_CONTENT_SECURITY_POLICY)
  @ApiOperation({ summary: 'The dashboard page' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'text/html', schema: { type: 'string' } })
  @ApiErrors()
  page(): string {
    return this.html;
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: "The page's script" })
  @ApiProduces('text/javascript')
  @ApiOkResponse({ description: 'text/javascript', schema: { type: 'string' } })
  @ApiErrors()
  appScript(): string {
    return this.script;
  }

  @Get('app.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: "The page's styles" })
  @ApiProduces('text/css')
  @ApiOkResponse({ description: 'text/css', schema: { type: 'string' } })
  @ApiErrors()
  appStyles(): string {
    return this.styles;
  }
}
