// Generated image-folder datasets for tests: real PNG files of drawn shapes or coloured noise, with the
// hazards a real folder has (a damaged file, nested junk, a loose file, hidden files, links, a FIFO).
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from './helpers';

/** A 40x40 PNG of a dark shape on white paper (a drawing), or of coloured noise (a photo). */
export async function png(kind: 'circle' | 'square' | 'bar' | 'photo', seed: number): Promise<Buffer> {
  const w = 40,
    h = 40,
    data = Buffer.alloc(w * h * 3, 255);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [dx, dy] = [x - 20 - (seed % 5), y - 20 + (seed % 3)];
      const ink =
        kind === 'circle'
          ? Math.abs(Math.hypot(dx, dy) - 10) < 2
          : kind === 'square'
            ? Math.max(Math.abs(dx), Math.abs(dy)) < 9
            : kind === 'bar'
              ? Math.abs(dx) < 2 && Math.abs(dy) < 14
              : false;
      const i = 3 * (y * w + x);
      if (kind === 'photo') [data[i], data[i + 1], data[i + 2]] = [(x * 7 + seed * 13) % 256, (y * 5 + seed * 29) % 256, ((x + y) * 3) % 256];
      else if (ink) data.fill(0, i, i + 3);
    }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

/** A 3-class folder of drawings; with hazards, also a link out of the folder, a link inside it and a FIFO. */
export async function drawingsFolder(perClass = 10, hazards = true): Promise<string> {
  const root = join(tempDir(), 'shapes');
  for (const kind of ['circle', 'square', 'bar'] as const) {
    mkdirSync(join(root, kind), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(root, kind, `${kind}-${i}.png`), await png(kind, i));
  }
  writeFileSync(join(root, 'square', 'broken.png'), Buffer.from('not a png at all'));
  mkdirSync(join(root, 'bar', 'nested'));
  writeFileSync(join(root, 'bar', 'nested', 'notes.txt'), 'junk');
  writeFileSync(join(root, 'bar', 'nested', 'bar-deep.png'), await png('bar', 99));
  writeFileSync(join(root, 'README.md'), 'loose');
  writeFileSync(join(root, 'circle', '.DS_Store'), 'hidden');
  if (!hazards) return root;
  const outside = join(tempDir(), 'secret.png');
  writeFileSync(outside, await png('circle', 1));
  symlinkSync(outside, join(root, 'circle', 'leak.png'));
  symlinkSync(join(root, 'circle', 'circle-0.png'), join(root, 'circle', 'alias.png'));
  execFileSync('mkfifo', [join(root, 'square', 'pipe.png')]);
  return root;
}
