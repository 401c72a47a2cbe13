// Draws the app icon (a handwritten 7 on a 16x16 pixel grid, lit like an MNIST digit) as SVG, and renders
// it offline with sharp: resources/icon.svg and icon.png (512 px), icon.ico (Windows), icon.icns (macOS),
// and the renderer's favicon. Run `node scripts/make-icons.mjs` after changing the drawing.
import { writeFileSync, copyFileSync } from 'node:fs';
import sharp from 'sharp';

const N = 16; // cells per side
const SIZE = 1024;
const MARGIN = 96;
const CELL = (SIZE - 2 * MARGIN) / N;
// The 7's stroke in cell coordinates: a top bar with a slight rise, then a long slanted downstroke.
const STROKE = [
  [3.2, 4.4],
  [12.6, 3.6],
  [11.4, 6.5],
  [8.4, 12.8],
];
const WIDTH = 1.15;

function distanceToSegment([px, py], [ax, ay], [bx, by]) {
  const [dx, dy] = [bx - ax, by - ay];
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Ink in a cell, 0..1: full inside the pen, fading over one cell, as MNIST's anti-aliased strokes do. */
function ink(x, y) {
  const centre = [x + 0.5, y + 0.5];
  const d = Math.min(...STROKE.slice(1).map((b, i) => distanceToSegment(centre, STROKE[i], b)));
  return Math.max(0, Math.min(1, WIDTH - d + 0.35));
}

function svg() {
  const cells = [];
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const v = ink(x, y);
      const [cx, cy] = [MARGIN + x * CELL + 4, MARGIN + y * CELL + 4];
      const fill = v > 0 ? `fill="url(#ink)" fill-opacity="${(0.25 + 0.75 * v).toFixed(2)}"` : 'fill="#ffffff" fill-opacity="0.06"';
      cells.push(`<rect x="${cx.toFixed(1)}" y="${cy.toFixed(1)}" width="${(CELL - 8).toFixed(1)}" height="${(CELL - 8).toFixed(1)}" rx="7" ${fill}/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}" width="${SIZE}" height="${SIZE}">
<defs>
<linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#1d2a44"/><stop offset="1" stop-color="#0c1322"/></linearGradient>
<linearGradient id="ink" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#fff6d8"/><stop offset="1" stop-color="#ffb648"/></linearGradient>
</defs>
<rect x="24" y="24" width="${SIZE - 48}" height="${SIZE - 48}" rx="200" fill="url(#bg)"/>
${cells.join('\n')}
</svg>
`;
}

/** An .ico holding PNG images (Windows Vista and later read these). */
function ico(pngs) {
  const header = Buffer.alloc(6 + 16 * pngs.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(pngs.length, 4);
  let offset = header.length;
  pngs.forEach(({ size, data }, i) => {
    const entry = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, entry);
    header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(data.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...pngs.map((p) => p.data)]);
}

/** An .icns holding PNG images under their OSType codes. */
function icns(pngs) {
  const TYPES = { 16: 'icp4', 32: 'icp5', 64: 'icp6', 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
  const chunks = pngs.map(({ size, data }) => {
    const head = Buffer.alloc(8);
    head.write(TYPES[size], 0, 'ascii');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + chunks.reduce((n, c) => n + c.length, 0), 4);
  return Buffer.concat([head, ...chunks]);
}

const source = Buffer.from(svg());
const png = (size) =>
  sharp(source, { density: (72 * size) / SIZE })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
const render = async (sizes) => Promise.all(sizes.map(async (size) => ({ size, data: await png(size) })));

writeFileSync('resources/icon.svg', source);
copyFileSync('resources/icon.svg', 'src/renderer/public/favicon.svg');
writeFileSync('resources/icon.png', await png(512));
writeFileSync('resources/icon.ico', ico(await render([16, 24, 32, 48, 64, 128, 256])));
writeFileSync('resources/icon.icns', icns(await render([16, 32, 64, 128, 256, 512, 1024])));
console.log('icons written: resources/icon.{svg,png,ico,icns}, src/renderer/public/favicon.svg');
