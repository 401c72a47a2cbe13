// `export`: writes a saved model in another format for other runtimes. ONNX is the one format so far
// (docs/export.md describes the graph and the input it expects).
import { TrainerClient } from '@core/trainer/client';
import { exportOnnxFile } from '@core/export/exportFile';
import { defaultHome } from '@core/home';

export async function exportCommand(dir: string, flags: { format: 'onnx'; out: string; json?: boolean }): Promise<void> {
  const client = new TrainerClient();
  try {
    const { file, bytes } = await exportOnnxFile(client, { dir, out: flags.out, home: defaultHome() });
    process.stdout.write(flags.json ? `${JSON.stringify({ file, format: flags.format, bytes })}\n` : `exported ${dir} as ONNX to ${file} (${bytes} bytes)\n`);
  } finally {
    await client.close();
  }
}
