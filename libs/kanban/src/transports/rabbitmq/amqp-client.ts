import type * as Amqp from 'amqplib';
import { exportLazily } from '../optional-dependency';

// `amqplib` is an optional peer dependency, loaded when the RabbitMQ transport first connects.
export declare const connect: typeof Amqp.connect;
exportLazily(exports as object, 'amqplib', 'The RabbitMQ transport', ['connect']);
