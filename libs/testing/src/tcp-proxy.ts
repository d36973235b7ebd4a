import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a real service (PostgreSQL, Redis): `cut()` drops every
 * connection and refuses new ones, as when the service or the network goes away; `restore()`
 * accepts connections again. `pause()` stalls it without closing anything, as a hung network or
 * a frozen server does: connections stay open and new ones are accepted, but no byte (nor close)
 * goes through until `resume()`, which then forwards what was held, in order. Used by the fault
 * run and by tests that cut or stall a dependency mid-way.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private open = true;
  private paused = false;
  private held: Array<() => void> = [];
  private server!: Server;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await proxy.start();
    return proxy;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (!this.open) return client.destroy();
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Bytes and closes from `from` reach `to`, unless paused: then they wait for resume(). */
  private forward(from: Socket, to: Socket): void {
    const pass = (step: () => void): void => {
      if (this.paused) this.held.push(step);
      else step();
    };
    from.on('data', (chunk: Buffer) => pass(() => to.write(chunk)));
    from.on('close', () => pass(() => to.destroy()));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const step of held) step();
  }

  cut(): void {
    this.held = [];
    this.paused = false;
    this.open = false;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.open = true;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
