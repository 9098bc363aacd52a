import net from 'node:net';

/**
 * A TCP proxy in front of a service (PostgreSQL) that a test takes down (every connection cut, new
 * ones refused) and brings back — by hand, or for a while when a connection sends given bytes — or
 * that cuts the one connection that next sends given bytes.
 */
export async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let cutWhen: RegExp | undefined;
  let dropReplyTo: RegExp | undefined;
  let outageOn: { pattern: RegExp; ms: number; began: () => void; ended: () => void } | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let cutOnReply = false;
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (outageOn?.pattern.test(text)) {
        const outage = outageOn;
        outageOn = undefined;
        outage.began();
        void down().then(async () => {
          await new Promise((resolve) => setTimeout(resolve, outage.ms));
          await listen(port);
          outage.ended();
        });
        return;
      }
      if (cutWhen?.test(text)) {
        cutWhen = undefined;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (dropReplyTo?.test(text)) {
        dropReplyTo = undefined;
        cutOnReply = true;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    client.on('end', () => upstream.end());
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnReply) {
        // The service has done what was asked (a COMMIT: committed); its answer never arrives.
        client.destroy();
        upstream.destroy();
        return;
      }
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('end', () => client.end());
  });
  const listen = (port: number) => new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  const port = await listen(0);
  const down = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return {
    port,
    down,
    up: () => listen(port),
    /**
     * When a connection next sends bytes matching `pattern`, they never reach the service and the
     * proxy goes down (every connection cut, new ones refused) for `ms`, then comes back. Resolves
     * `began` as the outage starts and `ended` once the proxy listens again.
     */
    outageOnNextSending: (pattern: RegExp, ms: number) => {
      let began!: () => void;
      let ended!: () => void;
      const result = { began: new Promise<void>((resolve) => (began = resolve)), ended: new Promise<void>((resolve) => (ended = resolve)) };
      outageOn = { pattern, ms, began, ended };
      return result;
    },
    /** The next connection to send bytes matching `pattern` is cut before they reach the service. */
    cutNextSending: (pattern: RegExp) => {
      cutWhen = pattern;
    },
    /** The next request matching `pattern` reaches the service, and its connection is cut before the reply comes back. */
    cutReplyToNext: (pattern: RegExp) => {
      dropReplyTo = pattern;
    },
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}
