import { KanbanError } from './kanban.error';

/**
 * A settle relayed to the instance holding the lease got no answer: no instance listens as that
 * holder (gone, or a forged lease) or it did not answer in time. `mayHaveArrived` is false when the
 * broker said nobody received the request, so another route may be tried without settling twice.
 */
export class RelayUnansweredError extends KanbanError {
  constructor(
    readonly holder: string,
    readonly mayHaveArrived: boolean,
    detail: string,
  ) {
    super(`No answer from lease holder ${holder}: ${detail}`, { holder, mayHaveArrived });
  }
}
