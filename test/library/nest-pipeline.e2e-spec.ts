import {
  Catch,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { IsIn, IsNumber, Min } from 'class-validator';
import { throwError, tap, type Observable } from 'rxjs';
import { KanbanContext, KanbanHandler, KanbanNack } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const VALIDATED = namespace.domain('validated');
const GUARDED = namespace.domain('guarded');
const INTERCEPTED = namespace.domain('intercepted');
const FILTERED = namespace.domain('filtered');

class PaymentDto {
  @IsNumber()
  @Min(0.01)
  amount!: number;

  @IsIn(['EUR', 'USD'])
  currency!: string;
}

class DeclinedError extends Error {}

@Injectable()
class EuroOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.getType() === 'rpc' && context.switchToRpc().getData<PaymentDto>().currency === 'EUR';
  }
}

const intercepted: string[] = [];
@Injectable()
class AuditInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const item = context.switchToRpc().getContext<KanbanContext>().getItem();
    intercepted.push(`before ${item.id}`);
    return next.handle().pipe(tap(() => intercepted.push(`after ${item.id}`)));
  }
}

@Catch(DeclinedError)
class DeclinedFilter implements RpcExceptionFilter<DeclinedError> {
  catch(exception: DeclinedError, _host: ArgumentsHost): Observable<never> {
    return throwError(() => new KanbanNack(`declined by filter: ${exception.message}`));
  }
}

const received: unknown[] = [];

@Injectable()
class PipelineConsumer {
  @KanbanHandler({ priority: 'high', domain: VALIDATED })
  @UsePipes(new ValidationPipe({ transform: true }))
  validated(@Payload() payment: PaymentDto) {
    received.push(payment);
  }

  @KanbanHandler({ priority: 'high', domain: GUARDED })
  @UseGuards(EuroOnlyGuard)
  guarded(@Payload() payment: PaymentDto) {
    received.push(payment);
  }

  @KanbanHandler({ priority: 'high', domain: INTERCEPTED })
  @UseInterceptors(AuditInterceptor)
  audited(@Payload() payment: PaymentDto, @Ctx() context: KanbanContext) {
    intercepted.push(`handler ${context.getItem().id}`);
    received.push(payment);
  }

  @KanbanHandler({ priority: 'high', domain: FILTERED })
  @UseFilters(new DeclinedFilter())
  filtered(@Payload() payment: PaymentDto) {
    throw new DeclinedError(`amount ${payment.amount} over limit`);
  }
}

describe.each(TRANSPORTS)('Nest pipes, guards, interceptors and filters on kanban handlers (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    received.length = 0;
    intercepted.length = 0;
    app = await createKanbanTestApp({ transport, providers: [PipelineConsumer, EuroOnlyGuard, AuditInterceptor], options: { maxWorkers: 1, autoscale: false, maxAttempts: 2, retryBackoffMs: [10] } });
  });
  afterAll(() => app.close());

  const publish = async (domain: string, payload: unknown) => (await app.queue.publish({ priority: 'high', domain, payload, deadline: inFuture() })).id;
  const deadLetter = (id: string) => waitFor(() => app.queue.getDeadLetter(id), { timeoutMs: 10_000, description: `dead letter ${id}` });

  it('a ValidationPipe hands the handler a DTO instance and dead-letters an invalid payload at once, naming the fields', async () => {
    const good = await publish(VALIDATED, { amount: 10, currency: 'EUR' });
    const bad = await publish(VALIDATED, { amount: -1, currency: 'XXX' });

    await waitFor(() => received.length === 1, { timeoutMs: 10_000, description: 'valid payment handled' });
    const letter = await deadLetter(bad);

    expect(received[0]).toBeInstanceOf(PaymentDto);
    expect(received[0]).toEqual(Object.assign(new PaymentDto(), { amount: 10, currency: 'EUR' }));
    expect(letter).toMatchObject({ reason: 'nack', attempts: 1 });
    expect(letter.error).toContain('amount must not be less than 0.01');
    expect(letter.error).toContain('currency must be one of the following values: EUR, USD');
    await expect(app.queue.getDeadLetter(good)).rejects.toThrow();
  });

  it('a guard that refuses keeps the handler from running', async () => {
    received.length = 0;
    const refused = await publish(GUARDED, { amount: 3, currency: 'USD' });
    const allowed = await publish(GUARDED, { amount: 4, currency: 'EUR' });

    const letter = await deadLetter(refused);
    await waitFor(() => received.length === 1, { timeoutMs: 10_000, description: 'EUR payment handled' });

    expect(received).toEqual([{ amount: 4, currency: 'EUR' }]);
    expect(letter).toMatchObject({ reason: 'max_attempts', error: 'Forbidden resource', attempts: 2 });
    await expect(app.queue.getDeadLetter(allowed)).rejects.toThrow();
  });

  it('an interceptor wraps the handler with the kanban context', async () => {
    const id = await publish(INTERCEPTED, { amount: 1, currency: 'EUR' });
    await waitFor(() => intercepted.length === 3, { timeoutMs: 10_000, description: 'interceptor after' });
    expect(intercepted).toEqual([`before ${id}`, `handler ${id}`, `after ${id}`]);
  });

  it('an exception filter turns a domain error into a nack with its reason', async () => {
    const id = await publish(FILTERED, { amount: 900, currency: 'EUR' });
    const letter = await deadLetter(id);
    expect(letter).toMatchObject({ reason: 'nack', error: 'declined by filter: amount 900 over limit', attempts: 1 });
  });
});
