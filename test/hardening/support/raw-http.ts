import { request } from 'node:http';

export interface RawAnswer {
  status: number;
  body: string;
}

/**
 * POSTs `head` then filler up to `total` bytes in `chunkBytes` chunks with no Content-Length
 * (Transfer-Encoding: chunked); stops sending once the server answers. Bounded by `total`.
 */
export function postChunked(url: string, path: string, head: string, total: number, chunkBytes = 64 * 1024): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    // The server may close the socket once it has answered; that ends the upload, not the test.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(chunkBytes, 'x');
    const writeMore = (): void => {
      if (sent === 0) {
        req.write(head);
        sent += Buffer.byteLength(head);
      }
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', writeMore);
          return;
        }
      }
      if (!answered) req.end('"}');
    };
    writeMore();
  });
}

/** POSTs exactly these bytes with this content type (or none). */
export async function postBytes(url: string, path: string, body: Buffer, contentType?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body: new Uint8Array(body) });
  return { status: response.status, body: await response.text() };
}
