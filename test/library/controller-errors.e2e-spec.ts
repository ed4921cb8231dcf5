import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Body, Controller, Get, Module, NotFoundException, Param, Post, UseFilters, type INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { KanbanConfigError, KanbanCoordinator, KanbanExceptionFilter, KanbanModule, KanbanQueue } from '@tps/kanban';
import request from 'supertest';

const ORDERS = 'orders';

/** A user's own controller: it calls kanban and lets kanban's errors escape, as most controllers do. */
@Controller('orders')
class OrdersController {
  constructor(private readonly queue: KanbanQueue) {}

  @Post()
  async create(@Body() body: { domain?: string; payload: unknown }) {
    return this.queue.publish({ priority: 'normal', domain: body.domain ?? ORDERS, payload: body.payload, deadlineMs: 60_000 });
  }

  @Get('dead-letters/:id')
  async deadLetter(@Param('id') id: string) {
    return this.queue.getDeadLetter(id);
  }

  @Get('misconfigured')
  misconfigured() {
    throw new KanbanConfigError('orders.region', 'points at the file /etc/secret/region.conf');
  }

  @Get('missing')
  missing() {
    throw new NotFoundException('no such order');
  }
}

/** The filter on one controller only, built by DI like any class given to @UseFilters. */
@Controller('invoices')
@UseFilters(KanbanExceptionFilter)
class InvoicesController {
  constructor(private readonly queue: KanbanQueue) {}

  @Post()
  async create(@Body() body: { domain: string }) {
    return this.queue.publish({ priority: 'normal', domain: body.domain, payload: null, deadlineMs: 60_000 });
  }
}

describe("kanban's errors in a user's HTTP controller, with the exported KanbanExceptionFilter", () => {
  let dir: string;
  let app: INestApplication;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-controller-errors-'));
    @Module({
      imports: [KanbanModule.forRoot({ embedded: { path: join(dir, 'kanban.db') }, autoscale: false, maxQueueDepth: 1 })],
      controllers: [OrdersController],
      providers: [{ provide: APP_FILTER, useClass: KanbanExceptionFilter }],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers invalid input with 400 and every offending field', async () => {
    // Act
    const response = await request(app.getHttpServer()).post('/orders').send({ domain: 'Not A Domain', payload: 1 });

    // Assert
    expect(response.status).toBe(400);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 400, code: 'validation_failed', fields: [expect.objectContaining({ field: 'domain' })] }));
  });

  it('answers an unknown dead letter with 404', async () => {
    // Act
    const response = await request(app.getHttpServer()).get('/orders/dead-letters/01ARZ3NDEKTSV4RRFFQ69G5FAV');

    // Assert
    expect(response.status).toBe(404);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 404, code: 'dead_letter_not_found' }));
  });

  it('answers a full queue with 429 and Retry-After', async () => {
    // Arrange
    await request(app.getHttpServer()).post('/orders').send({ domain: 'full', payload: 1 }).expect(201);

    // Act
    const response = await request(app.getHttpServer()).post('/orders').send({ domain: 'full', payload: 2 });

    // Assert
    expect(response.status).toBe(429);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 429, code: 'queue_full' }));
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('answers a kanban error without an HTTP meaning with a 500 that shows no message or stack', async () => {
    // Act
    const response = await request(app.getHttpServer()).get('/orders/misconfigured');

    // Assert
    expect(response.status).toBe(500);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 500, code: 'internal_error', message: 'Internal server error' }));
    expect(response.text).not.toContain('/etc/secret');
    expect(response.text).not.toContain('KanbanConfigError');
  });

  it("leaves the app's own HTTP exceptions to Nest", async () => {
    // Act
    const response = await request(app.getHttpServer()).get('/orders/missing');

    // Assert
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no such order' });
  });

  it('answers publishes while draining with 503', async () => {
    // Arrange
    await app.get(KanbanCoordinator).drainQueue();

    // Act
    const response = await request(app.getHttpServer()).post('/orders').send({ payload: 3 });

    // Assert
    expect(response.status).toBe(503);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 503, code: 'draining' }));
    expect(response.text).not.toContain('    at ');
  });
});

describe('KanbanExceptionFilter on one controller with @UseFilters', () => {
  let dir: string;
  let app: INestApplication;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-controller-filter-'));
    @Module({
      imports: [KanbanModule.forRoot({ embedded: { path: join(dir, 'kanban.db') }, autoscale: false })],
      controllers: [InvoicesController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers invalid input with 400 and every offending field', async () => {
    // Act
    const response = await request(app.getHttpServer()).post('/invoices').send({ domain: 'Not A Domain' });

    // Assert
    expect(response.status).toBe(400);
    expect(response.body).toEqual(expect.objectContaining({ statusCode: 400, fields: [expect.objectContaining({ field: 'domain' })] }));
  });
});
