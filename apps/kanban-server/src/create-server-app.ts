import type { NestApplicationOptions, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import type { ServerConfig } from './config';
import { useHostAllowlist, useJsonBody, useSecurityHeaders } from './http';
import { useOpenApi } from './openapi';

/**
 * Builds the server app, configured as it runs in production (security headers, JSON body limits,
 * pipes, guards, filters), without listening: `main.ts` listens, tests drive it in process.
 * `handlers`: providers with `@KanbanHandler` methods to run in-process beside the API.
 */
export async function createServerApp(config: ServerConfig, logger?: NestApplicationOptions['logger'], handlers: Type[] = []): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, handlers), {
    // The parser is registered below with the body limit the payload limit needs.
    bodyParser: false,
    // Start-up errors reach main.ts, which reports them in one line, instead of aborting the process.
    abortOnError: false,
    ...(logger !== undefined ? { logger } : {}),
  });
  useHostAllowlist(app, config.allowedHosts);
  app.disable('x-powered-by');
  // The rate limit tells clients apart by req.ip, and the security headers TLS by req.secure: Express reads X-Forwarded-* only through these proxies.
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);
  useSecurityHeaders(app);
  useJsonBody(app, config.bodyLimitBytes);
  useOpenApi(app);
  return app;
}
