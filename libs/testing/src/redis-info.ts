import { connect } from 'node:net';

/** Redis INFO `section` over a raw connection, for runs that measure a Redis without a client of their own. */
export function redisInfo(port: number, section: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`INFO ${section}\r\n`));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      // A bulk reply: $<length>\r\n<body>\r\n
      const header = /^\$(\d+)\r\n/.exec(text);
      if (header && Buffer.byteLength(text) >= header[0].length + Number(header[1]) + 2) {
        socket.end();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

/** INFO commandstats: calls per command, those run inside Lua scripts included, INFO itself (the measurement's own) left out. */
export async function redisCommandCalls(port: number): Promise<Map<string, number>> {
  const stats = await redisInfo(port, 'commandstats');
  const calls = [...stats.matchAll(/cmdstat_([a-z|_-]+):calls=(\d+)/g)].filter((match) => match[1] !== 'info');
  return new Map(calls.map((match) => [match[1], Number(match[2])]));
}
