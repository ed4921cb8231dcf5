import { EnvironmentError, loadServerConfig } from '../src/config';

function problemsOf(env: Record<string, string>): EnvironmentError {
  try {
    loadServerConfig(env);
  } catch (error) {
    if (error instanceof EnvironmentError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('groups (fair share) from the environment', () => {
  it('maps the group variables to the library’s groups options', () => {
    // Act
    const config = loadServerConfig({ KANBAN_GROUP_MAX_IN_FLIGHT: '5', KANBAN_GROUP_RATE_PER_SECOND: '2.5', KANBAN_GROUP_WINDOW: '50', KANBAN_GROUP_METRICS: 'true' });

    // Assert
    expect(config.kanban.groups).toEqual({ maxInFlightPerGroup: 5, groupRatePerSecond: 2.5, window: 50, metrics: true });
  });

  it('sets no groups options when no group variable is set', () => {
    // Act
    const config = loadServerConfig({});

    // Assert
    expect(config.kanban.groups).toBeUndefined();
  });

  it.each([
    ['KANBAN_GROUP_MAX_IN_FLIGHT', '0'],
    ['KANBAN_GROUP_MAX_IN_FLIGHT', '1.5'],
    ['KANBAN_GROUP_RATE_PER_SECOND', '0'],
    ['KANBAN_GROUP_RATE_PER_SECOND', 'fast'],
    ['KANBAN_GROUP_RATE_PER_SECOND', 'Infinity'],
    ['KANBAN_GROUP_RATE_PER_SECOND', '1e3'],
    ['KANBAN_GROUP_WINDOW', '0'],
    ['KANBAN_GROUP_METRICS', 'yes'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    // Act
    const error = problemsOf({ [variable]: value });

    // Assert
    expect(error.problems.map((p) => p.variable)).toEqual([variable]);
  });
});
