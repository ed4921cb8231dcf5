import type { ParamData } from '@nestjs/common';
import type { ParamsFactory } from '@nestjs/core';

/** The param types `@Payload()` and `@Ctx()` of @nestjs/microservices record (its RpcParamtype enum is not exported). */
const RPC_PAYLOAD = 3;
const RPC_CONTEXT = 6;

/** Resolves `@Payload()` and `@Ctx()` for kanban handlers, as Nest's RPC params factory does. */
export class KanbanParamsFactory implements ParamsFactory {
  exchangeKeyForValue(type: number, data: ParamData, args: unknown[]): unknown {
    switch (type) {
      case RPC_PAYLOAD: {
        const payload = args[0] as Record<string, unknown> | undefined;
        return data && payload && typeof payload === 'object' ? payload[data as string] : payload;
      }
      case RPC_CONTEXT:
        return args[1];
      default:
        return null;
    }
  }
}
