// The IDX format of MNIST and its relatives: a big-endian header (magic, then one 32-bit size per
// dimension) followed by unsigned bytes. Every header field is checked against the file's real length
// before anything is allocated from it, so a hostile header cannot make us reserve gigabytes.
import { gunzipSync } from 'node:zlib';
import { MAX_SIDE } from '@shared/modelSpec';
import { StudioFailure } from '@shared/errors';

export class DataError extends StudioFailure {
  readonly code = 'bad-data';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
  }
}

export const IMAGES_MAGIC = 0x00000803;
export const LABELS_MAGIC = 0x00000801;
/** A decompressed file larger than this is refused (MNIST's largest is 47 MB). */
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  pixels: Uint8Array;
}

function inflate(raw: Uint8Array, file: string): Uint8Array {
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_IDX_BYTES });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new DataError(file, code === 'ERR_BUFFER_TOO_LARGE' ? `decompresses to more than ${MAX_IDX_BYTES} bytes` : 'not a valid gzip file');
  }
}

function header(data: Uint8Array, file: string, magic: number, dims: number): number[] {
  const what = magic === IMAGES_MAGIC ? 'image' : 'label';
  const need = 4 + 4 * dims;
  if (data.length < need) throw new DataError(file, `too short for an IDX ${what} header (${data.length} bytes, need ${need})`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const found = view.getUint32(0);
  if (found !== magic) {
    throw new DataError(
      file,
      `bad magic number 0x${found.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')} (IDX ${what} file)`,
    );
  }
  const sizes = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  const body = sizes.reduce((a, b) => a * b, 1);
  if (data.length - need !== body) {
    throw new DataError(file, `header says ${sizes.join('x')} = ${body} bytes of data but the file has ${data.length - need}`);
  }
  return sizes;
}

export function parseImages(raw: Uint8Array, file: string): IdxImages {
  const data = inflate(raw, file);
  const [count, height, width] = header(data, file, IMAGES_MAGIC, 3) as [number, number, number];
  if (count === 0) throw new DataError(file, 'holds no images');
  if (height % 4 || width % 4 || height < 4 || width < 4 || height > MAX_SIDE || width > MAX_SIDE) {
    throw new DataError(file, `images are ${height}x${width}; the network takes sides that are multiples of 4, up to ${MAX_SIDE}`);
  }
  return { count, height, width, pixels: data.subarray(16) };
}

export function parseLabels(raw: Uint8Array, file: string): Uint8Array {
  const data = inflate(raw, file);
  const [count] = header(data, file, LABELS_MAGIC, 1) as [number];
  if (count === 0) throw new DataError(file, 'holds no labels');
  // Labels are bytes, so at most 256 classes, which is also the most a model may have.
  return data.subarray(8);
}
