import { BadRequestException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_JSON_DEPTH } from '../config';
import { jsonDepthExceeds } from './json-depth';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** body-parser would replace invalid UTF-8 with U+FFFD and store altered payloads; a 400 is honest. */
function rejectInvalidUtf8(_request: IncomingMessage, _response: ServerResponse, body: Buffer): void {
  try {
    utf8.decode(body);
  } catch {
    throw Object.assign(new Error('The body is not valid UTF-8'), { status: 400, statusCode: 400, expose: true, type: 'encoding.invalid' });
  }
}

/**
 * JSON bodies only, up to `limitBytes` (413 beyond, chunked bodies included), nested at most
 * MAX_JSON_DEPTH deep (400 beyond): class-transformer and class-validator recurse, and a body
 * built to be deep would otherwise take the request down with a stack overflow.
 */
export function useJsonBody(app: NestExpressApplication, limitBytes: number): void {
  app.useBodyParser('json', { limit: limitBytes, verify: rejectInvalidUtf8 });
  app.use((request: IncomingMessage & { body?: unknown }, _response: ServerResponse, next: (error?: unknown) => void) => {
    if (jsonDepthExceeds(request.body, MAX_JSON_DEPTH)) next(new BadRequestException(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`));
    else next();
  });
}
