import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/** An AbortSignal that fires when the response closes: finished, or the client hung up mid-wait. */
export const RequestAbortSignal = createParamDecorator((_data: unknown, context: ExecutionContext): AbortSignal => {
  const controller = new AbortController();
  context
    .switchToHttp()
    .getResponse<ServerResponse>()
    .once('close', () => controller.abort());
  return controller.signal;
});
