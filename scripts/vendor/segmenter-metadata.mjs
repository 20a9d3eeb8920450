// Gives MediaPipe's legacy selfie segmentation model (npm @mediapipe/selfie_segmentation) the
// TFLite metadata that tasks-vision's ImageSegmenter requires, and writes the result.
//
//   node scripts/vendor/segmenter-metadata.mjs IN.tflite OUT.tflite
//
// Why: the ImageSegmenter refuses the model as shipped ("Input tensor has type float32: it
// requires specifying NormalizationOptions metadata to preprocess input images"): the legacy
// solution normalised its input in its own graph, the tasks read it from the model. The model
// itself is the same network as the tasks' "selfie_segmenter" (256x256 RGB in, one float
// channel out: the person's probability, already through its sigmoid). Its legacy graph fed
// it pixels scaled to [0, 1]: mean 0, std 255. Nothing else changes in the model.
//
// How, with no dependency (the Dockerfile's vendor stage has only Node): a FlatBuffer may be
// extended by *prepending*. Offsets inside the old model are relative, so its bytes keep their
// meaning when moved 16-aligned; a new root `Model` table in front points forward to the old
// tables (operators, subgraphs) and to two new vectors: the buffers plus one holding the
// metadata, and the metadata entries plus one named "TFLITE_METADATA". Field numbers are those
// of tensorflow/lite/schema/schema.fbs (Model, Buffer, Metadata) and of MediaPipe's
// mediapipe/tasks/metadata/metadata_schema.fbs (ModelMetadata 1.5.0).
import { readFileSync, writeFileSync } from "node:fs";

// A FlatBuffer laid out front to back: a parent is placed before its children, so every
// offset points forward, as the format requires. `external` offsets point into bytes that
// will follow this buffer (the old model), fixed once the buffer's final size is known.
class Layout {
  constructor() {
    this.bytes = [];
    this.fixups = [];
  }

  alloc(size, align = 4, after = 0) {
    while ((this.bytes.length + after) % align) this.bytes.push(0);
    const at = this.bytes.length;
    for (let i = 0; i < size; i++) this.bytes.push(0);
    return at;
  }

  put(at, value, size = 4) {
    for (let i = 0; i < size; i++) this.bytes[at + i] = (value >>> (8 * i)) & 0xff;
  }

  // node: {table: [[slot, "u8" | "u32" | "ref", value]]}, {refs: [node]}, {floats: [...]},
  // {string}, {data: Uint8Array} (16-aligned), {external: position in the old model}.
  // Returns where the node starts.
  write(node) {
    if (node.table) return this.writeTable(node.table);
    if (node.refs) {
      const at = this.alloc(4 + 4 * node.refs.length);
      this.put(at, node.refs.length);
      node.refs.forEach((child, i) => this.ref(at + 4 + 4 * i, child));
      return at;
    }
    if (node.floats) {
      const at = this.alloc(4 + 4 * node.floats.length);
      this.put(at, node.floats.length);
      const view = new DataView(new ArrayBuffer(4));
      node.floats.forEach((value, i) => {
        view.setFloat32(0, value, true);
        this.put(at + 4 + 4 * i, view.getUint32(0, true));
      });
      return at;
    }
    const data = node.data ?? new TextEncoder().encode(`${node.string}\0`);
    const at = this.alloc(4 + data.length, node.data ? 16 : 4, 4); // the bytes themselves aligned
    this.put(at, node.data ? data.length : data.length - 1);
    data.forEach((byte, i) => (this.bytes[at + 4 + i] = byte));
    return at;
  }

  writeTable(fields) {
    const slots = Math.max(-1, ...fields.map(([slot]) => slot)) + 1;
    const vtable = this.alloc(4 + 2 * slots, 2);
    const table = this.alloc(4 + 4 * fields.length);
    this.put(vtable, 4 + 2 * slots, 2);
    this.put(vtable + 2, 4 + 4 * fields.length, 2);
    this.put(table, table - vtable); // soffset: the vtable is `table - soffset`
    fields.forEach(([slot, kind, value], i) => {
      const at = table + 4 + 4 * i;
      this.put(vtable + 4 + 2 * slot, 4 + 4 * i, 2);
      if (kind === "ref") this.ref(at, value);
      else this.put(at, value, kind === "u8" ? 1 : 4);
    });
    return table;
  }

  ref(at, child) {
    if (child.external !== undefined) this.fixups.push([at, child.external]);
    else this.put(at, this.write(child) - at);
  }

  // The finished bytes, 16-aligned, with the `external` offsets pointing past them.
  finish() {
    this.alloc(0, 16);
    for (const [at, target] of this.fixups) this.put(at, this.bytes.length + target - at);
    return Uint8Array.from(this.bytes);
  }
}

function modelMetadata() {
  const layout = new Layout();
  const root = layout.alloc(8);
  "M001".split("").forEach((c, i) => (layout.bytes[root + 4 + i] = c.charCodeAt(0)));
  const tensor = (name, content, units) => ({
    table: [[0, "ref", { string: name }], [3, "ref", content], ...(units ? [[4, "ref", units]] : [])],
  });
  const image = { table: [[0, "u8", 2], [1, "ref", { table: [[0, "u8", 1]] }]] }; // ImageProperties, RGB
  const feature = { table: [[0, "u8", 1], [1, "ref", { table: [] }]] }; // FeatureProperties
  const normalize = { refs: [{ table: [[0, "u8", 1], [1, "ref", { table: [[0, "ref", { floats: [0] }], [1, "ref", { floats: [255] }]] }]] }] };
  const subgraph = {
    table: [
      [2, "ref", { refs: [tensor("image", image, normalize)] }],
      [3, "ref", { refs: [tensor("segmentation", feature)] }],
    ],
  };
  const top = layout.write({
    table: [
      [0, "ref", { string: "selfie_segmentation" }],
      [1, "ref", { string: "MediaPipe selfie segmentation (general, 256x256), metadata added for tasks-vision" }],
      [3, "ref", { refs: [subgraph] }],
      [7, "ref", { string: "1.0.0" }],
    ],
  });
  layout.put(root, top - root);
  return layout.finish();
}

// The old model's root table: each field's position (0 when absent) and its vectors.
function readModel(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at) => view.getUint32(at, true);
  const root = u32(0);
  const vtable = root - view.getInt32(root, true);
  const field = (slot) => (4 + 2 * slot < view.getUint16(vtable, true) ? view.getUint16(vtable + 4 + 2 * slot, true) : 0);
  const target = (slot) => field(slot) && root + field(slot) + u32(root + field(slot));
  const elements = (slot) => {
    const vector = target(slot);
    if (!vector) return [];
    return Array.from({ length: u32(vector) }, (_, i) => vector + 4 + 4 * i + u32(vector + 4 + 4 * i));
  };
  return { version: field(0) ? u32(root + field(0)) : 0, target, elements };
}

export function withMetadata(model, metadata) {
  if (new TextDecoder().decode(model.subarray(4, 8)) !== "TFL3") throw new Error("not a TFLite model");
  const old = readModel(model);
  const buffers = old.elements(4);
  const keep = (slot) => (old.target(slot) ? [[slot, "ref", { external: old.target(slot) }]] : []);
  const layout = new Layout();
  const root = layout.alloc(8);
  "TFL3".split("").forEach((c, i) => (layout.bytes[root + 4 + i] = c.charCodeAt(0)));
  const top = layout.write({
    table: [
      [0, "u32", old.version],
      ...keep(1), // operator_codes
      ...keep(2), // subgraphs
      ...keep(3), // description
      [4, "ref", { refs: [...buffers.map((at) => ({ external: at })), { table: [[0, "ref", { data: metadata }]] }] }],
      ...keep(5), // metadata_buffer
      [6, "ref", {
        refs: [
          ...old.elements(6).map((at) => ({ external: at })),
          { table: [[0, "ref", { string: "TFLITE_METADATA" }], [1, "u32", buffers.length]] },
        ],
      }],
      ...keep(7), // signature_defs
    ],
  });
  layout.put(root, top - root);
  const front = layout.finish();
  const out = new Uint8Array(front.length + model.length);
  out.set(front);
  out.set(model, front.length);
  return out;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [input, output] = process.argv.slice(2);
  writeFileSync(output, withMetadata(readFileSync(input), modelMetadata()));
}
