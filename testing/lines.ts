/**
 * Text lines of a byte stream (a child process's stdout/stderr, stdin), for the tools that talk to
 * child processes line by line.
 *
 * @module
 */

/** Yields each `\n`-terminated line of `stream` (without the newline), then any unterminated rest. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}
