import { Global, Module, type DynamicModule } from '@nestjs/common';
import { SERVER_CONFIG } from './server-config.constants';
import type { ServerConfig } from './server-config.interface';

/** Makes the validated `ServerConfig` injectable everywhere under `SERVER_CONFIG`. */
@Global()
@Module({})
export class ServerConfigModule {
  static forRoot(config: ServerConfig): DynamicModule {
    return {
      module: ServerConfigModule,
      providers: [{ provide: SERVER_CONFIG, useValue: config }],
      exports: [SERVER_CONFIG],
    };
  }
}
