// Registers one IPC handler per API method, derived from the shared method list. The sender is checked
// in one place, and the service validates every payload, so a handler never sees unchecked input.
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { API_METHODS, channelOf, type Envelope } from '@shared/api';
import type { StudioService } from '@core/service/studioService';
import { isAppUrl } from './window';

function trusted(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame.parent === null && isAppUrl(frame.url);
}

export function registerIpc(service: StudioService): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(channelOf(method), async (event, input: unknown): Promise<Envelope<unknown>> => {
      if (!trusted(event)) return { ok: false, error: { code: 'bad-request', message: 'calls are accepted from the app window only' } };
      return service.dispatch(method, input);
    });
  }
  return () => API_METHODS.forEach((method) => ipcMain.removeHandler(channelOf(method)));
}
