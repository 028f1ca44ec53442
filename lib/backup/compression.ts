/**
 * gzip in memory with the runtime's own CompressionStream: how a backup's canonical bytes are
 * stored (lib/backup/store.ts).
 */
async function pipe(bytes: Uint8Array, stream: TransformStream<Uint8Array, Uint8Array>) {
  const out = new Response(
    new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream),
  );
  return new Uint8Array(await out.arrayBuffer());
}

/** The bytes gzip-compressed. */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new CompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>);
}

/** The bytes of a gzip stream; rejects when they are not one. */
export function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new DecompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>);
}
