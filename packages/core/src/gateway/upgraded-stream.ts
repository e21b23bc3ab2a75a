/*
 * The UpgradedStream of UpgradeOffer.acceptStream: the taken connection as bytes both ways.
 * Like ServerWebSocket it exists before the connection is handed over (the app returns the
 * response that hands it over), so every operation waits for attach(). Reading is pulled:
 * the Duplex's own async iterator reads only as the app asks; write() resolves once the bytes
 * are taken (at once under the Duplex's mark, else on 'drain'), which is the backpressure.
 */
import type { Duplex } from 'node:stream';
import type { UpgradedStream } from './types.js';

export class DuplexUpgradedStream implements UpgradedStream {
  readonly closed: Promise<void>;
  #duplex: Duplex | null = null;
  #head: Buffer | null = null;
  #attached!: (duplex: Duplex) => void;
  readonly #ready: Promise<Duplex>;
  #resolveClosed!: () => void;

  constructor() {
    this.#ready = new Promise((resolve) => { this.#attached = resolve; });
    this.closed = new Promise((resolve) => { this.#resolveClosed = resolve; });
  }

  /** The server hands the connection over, with the bytes that came after the request head. */
  attach(duplex: Duplex, head: Buffer): void {
    this.#duplex = duplex;
    this.#head = head.length > 0 ? head : null;
    duplex.once('close', () => this.#resolveClosed());
    this.#attached(duplex);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const duplex = await this.#ready;
    const head = this.#head;
    this.#head = null;
    if (head !== null) yield head;
    // destroyOnReturn false: an app that stops reading may still write, or end().
    try {
      for await (const chunk of duplex.iterator({ destroyOnReturn: false })) yield chunk as Uint8Array;
    } catch (error) {
      // The peer reset or vanished: iteration ends as at a FIN (`closed` resolves); a write
      // would fail. Anything else is the app's to see.
      if (!isPeerGone(error)) throw error;
    }
  }

  async write(chunk: Uint8Array | string): Promise<void> {
    const duplex = await this.#ready;
    if (duplex.destroyed || duplex.writableEnded) throw new Error('the upgraded connection is closed');
    if (duplex.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => { duplex.off('drain', done); duplex.off('close', done); resolve(); };
      duplex.on('drain', done);
      duplex.on('close', done);
    });
  }

  async end(): Promise<void> {
    const duplex = await this.#ready;
    if (duplex.writableFinished || duplex.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => { duplex.off('finish', done); duplex.off('close', done); resolve(); };
      duplex.on('finish', done);
      duplex.on('close', done);
      duplex.end();
    });
  }

  destroy(): void {
    if (this.#duplex !== null) this.#duplex.destroy();
    else void this.#ready.then((duplex) => duplex.destroy());
  }
}

const PEER_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE']);

function isPeerGone(error: unknown): boolean {
  return PEER_GONE.has((error as { code?: string } | null)?.code ?? '');
}
