import { MissingDependencyError } from '../errors';

/**
 * Requires an optional peer dependency.
 * @throws MissingDependencyError naming the package when it is not installed.
 */
export function loadOptionalDependency<T>(name: string, usedBy: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the synchronous first-use load that the lazy exports need; import() is asynchronous
    return require(name) as T;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && (error as Error).message.includes(`'${name}'`);
    if (missing) throw new MissingDependencyError(name, usedBy, { cause: error });
    throw error;
  }
}

/**
 * Defines `names` on a module's `exports` as getters that require the optional peer dependency on
 * the first read: the modules that import them load without the package, and only the transport
 * that calls into it needs it installed. Reads throw MissingDependencyError naming the package.
 */
export function exportLazily(target: object, name: string, usedBy: string, names: readonly string[]): void {
  let loaded: Record<string, unknown> | undefined;
  for (const key of names) {
    Object.defineProperty(target, key, {
      enumerable: true,
      get: () => (loaded ??= loadOptionalDependency<Record<string, unknown>>(name, usedBy))[key],
    });
  }
}
