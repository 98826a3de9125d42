import { connect } from 'node:tls';

/**
 * Whether something at `host:port` completes a TLS handshake. Asked only after an `http://` request failed
 * the way a TLS port answers plain HTTP (the connection closed, or bytes that are not HTTP), so that the
 * message can say "use https://" instead of "cannot reach the server". Certificates are not checked: the
 * question is only which protocol the port speaks, and nothing is sent over the connection.
 */
export function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false, servername: /^[\d.]+$|:/.test(host) ? undefined : host });
    const done = (answer: boolean) => { clearTimeout(timer); socket.destroy(); resolve(answer); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
