import type { Command } from './command.interface';

export const breakersResetCommand: Command = {
  words: ['breakers', 'reset'],
  summary: "close every open circuit breaker now, without waiting for the cooldown's probe",
  usage: '',
  options: {},
  async run({ api, out, input }) {
    input.noPositionals();
    const answer = await api.post<{ closed: number }>('/coordinator/breakers/reset');
    out.result(answer, () => `closed ${answer.closed} open circuit breakers`);
  },
};
