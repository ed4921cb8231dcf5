import { Logger } from '@nestjs/common';
import { kanbanLoggerFromEnv } from '@tps/kanban';
import { EnvironmentError, loadServerConfig, redactUrl, type ServerConfig } from './config';
import { createServerApp } from './create-server-app';

const logger = new Logger('KanbanServer');

function describeBrokers(config: ServerConfig): string {
  const { nats, rabbitmq, embedded } = config.kanban;
  const brokers = [...(nats ? [`nats=${nats.servers.map(redactUrl).join(',')}`] : []), ...(rabbitmq ? [`rabbitmq=${redactUrl(rabbitmq.url)}`] : [])];
  return brokers.length ? brokers.join(' ') : `embedded store${embedded?.path ? ` at ${embedded.path}` : ''}`;
}

async function bootstrap(): Promise<void> {
  Logger.overrideLogger(kanbanLoggerFromEnv(process.env));
  const config = loadServerConfig(process.env);
  logger.log(`Starting on ${describeBrokers(config)}`);
  const app = await createServerApp(config);
  // SIGTERM/SIGINT run the shutdown hooks: the coordinator drains, then the transport closes; exit 0.
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const auth = config.apiToken ? 'bearer token required on mutating and dead-letter routes' : 'no KANBAN_API_TOKEN: loopback only, no auth';
  logger.log(`Listening on http://${config.host}:${port} (${auth})`);
}

bootstrap().catch((error: unknown) => {
  // One line, no stack: the messages name what to fix, and secrets never appear in them.
  const reason = error instanceof EnvironmentError ? error.message : `Start-up failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  logger.error(reason);
  process.exit(1);
});
