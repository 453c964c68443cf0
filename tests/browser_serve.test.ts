// The browser demo's static server (examples/browser/serve.ts) without a browser: content
// negotiation (brotli, gzip, identity), Vary, byte counting, ETag revalidation, confinement.

import assert from "node:assert/strict";
import { pickEncoding, serveDir, type ServedResponse } from "../examples/browser/serve.ts";

Deno.test("browser serve: pickEncoding prefers br, then gzip, and honours q=0", () => {
  assert.equal(pickEncoding("gzip, deflate, br, zstd"), "br");
  assert.equal(pickEncoding("gzip"), "gzip");
  assert.equal(pickEncoding("br;q=0, gzip;q=0.5"), "gzip");
  assert.equal(pickEncoding("*"), "br");
  assert.equal(pickEncoding("*, br;q=0"), "gzip");
  assert.equal(pickEncoding("identity"), undefined);
  assert.equal(pickEncoding(""), undefined);
  assert.equal(pickEncoding(null), undefined);
  assert.equal(pickEncoding("gzip;q=0"), undefined);
});

/** A raw HTTP/1.1 GET (fetch would undo the compression under test). */
async function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Uint8Array<ArrayBuffer> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = [`GET ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"]
    .concat(Object.entries(headers).map(([k, v]) => `${k}: ${v}`));
  await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
  const all = new Uint8Array(await new Response(conn.readable).arrayBuffer());
  let end = 0;
  while (!(all[end] === 13 && all[end + 1] === 10 && all[end + 2] === 13 && all[end + 3] === 10)) end++;
  const lines = new TextDecoder().decode(all.subarray(0, end)).split("\r\n");
  const h = new Headers();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    h.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  assert.equal(h.get("transfer-encoding"), null, "expected a Content-Length body");
  return { status: Number(lines[0].split(" ")[1]), headers: h, body: all.slice(end + 4) };
}

async function decode(body: Uint8Array<ArrayBuffer>, encoding: string | null): Promise<Uint8Array> {
  if (!encoding) return body;
  const format = encoding === "br" ? "brotli" : "gzip";
  const stream = new Blob([body]).stream().pipeThrough(new DecompressionStream(format as CompressionFormat));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("browser serve: compressed bodies decode to the file, counted as sent; 304 on a matching ETag", async () => {
  const root = await Deno.makeTempDir({ prefix: "deis-serve-test-" });
  // compressible but not trivially: a repeated text with a counter
  const js = new TextEncoder().encode(
    Array.from({ length: 4000 }, (_, i) => `export const v${i} = ${i * 7};`).join("\n"),
  );
  const png = crypto.getRandomValues(new Uint8Array(5000));
  await Deno.writeFile(`${root}/app.js`, js);
  await Deno.writeFile(`${root}/pic.png`, png);
  await Deno.writeTextFile(`${root}/index.html`, "<!doctype html><p>hi</p>");
  const served: ServedResponse[] = [];
  const server = await serveDir({ root, onResponse: (r) => served.push(r) });
  try {
    for (const enc of ["br", "gzip", "identity"]) {
      served.length = 0;
      const res = await rawGet(server.port, "/app.js", { "accept-encoding": enc });
      assert.equal(res.status, 200);
      const raw = res.body;
      const got = res.headers.get("content-encoding");
      assert.equal(got, enc === "identity" ? null : enc);
      assert.equal(res.headers.get("vary"), "Accept-Encoding");
      assert.equal(Number(res.headers.get("content-length")), raw.byteLength);
      assert.deepEqual(await decode(raw, got), js);
      if (enc !== "identity") assert.ok(raw.byteLength < js.byteLength / 3, `${enc}: ${raw.byteLength} B`);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(served.length, 1);
      assert.equal(served[0].bytes, raw.byteLength, `${enc}: the count is what went out`);
      assert.equal(served[0].fileBytes, js.byteLength);

      // the same file, revalidated: 304 without a body
      const etag = res.headers.get("etag");
      assert.ok(etag, "no ETag");
      const again = await rawGet(server.port, "/app.js", { "accept-encoding": enc, "if-none-match": etag });
      assert.equal(again.status, 304);
      assert.equal(again.body.byteLength, 0);
    }
    // a different encoding is a different representation: its ETag differs
    const br = await rawGet(server.port, "/app.js", { "accept-encoding": "br" });
    const gz = await rawGet(server.port, "/app.js", {
      "accept-encoding": "gzip",
      "if-none-match": br.headers.get("etag")!,
    });
    assert.equal(gz.status, 200);

    // PNG is not compressed again, and has no Vary
    const p = await rawGet(server.port, "/pic.png", { "accept-encoding": "br" });
    assert.equal(p.headers.get("content-encoding"), null);
    assert.equal(p.headers.get("vary"), null);
    assert.deepEqual(p.body, png);

    // an encoded slash survives URL parsing and decodes to a path with ".." in it
    assert.equal((await rawGet(server.port, "/a%2f..%2f..%2fetc%2fpasswd")).status, 403);
    assert.equal((await rawGet(server.port, "/nope.js")).status, 404);
    const post = await fetch(server.url, { method: "POST" });
    await post.body?.cancel();
    assert.equal(post.status, 405);
  } finally {
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  }
});
