/** The `active=` broker of each transport status line the library logged, in order (one line per switch). */
export function activeBrokerLines(logs: string[]): string[] {
  return logs.flatMap((line) => {
    const match = /Transport failover: state=\w+ active=(\S+)/.exec(line);
    return match ? [match[1]] : [];
  });
}
