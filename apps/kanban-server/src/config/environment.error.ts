export interface EnvironmentProblem {
  /** The environment variable at fault. */
  variable: string;
  /** What it must be; never its value, which may be a secret. */
  message: string;
}

/** The environment cannot start the server; the message names every variable at fault. */
export class EnvironmentError extends Error {
  constructor(readonly problems: EnvironmentProblem[]) {
    super(`Invalid environment: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`);
    this.name = new.target.name;
  }
}
