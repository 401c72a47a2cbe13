// Hands bytes to the browser as a download (a page cannot write files itself): the browser host's way to
// deliver an export, where Electron shows a save dialog instead.
import { fromBase64 } from './format';

export function download(name: string, base64: string, type = 'application/octet-stream'): void {
  const bytes = fromBase64(base64);
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL by now; freed a little later, as some browsers read it after click.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
