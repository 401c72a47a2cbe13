// Exposes the app's API to the sandboxed renderer: one named function per operation and an event
// subscription that returns its unsubscribe. ipcRenderer itself never crosses the bridge.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { API_METHODS, EVENT_CHANNEL, channelOf, unwrap, type Envelope, type StudioApi, type StudioEvent } from '@shared/api';

const methods = Object.fromEntries(
  API_METHODS.map((method) => [method, async (input: unknown) => unwrap((await ipcRenderer.invoke(channelOf(method), input)) as Envelope<unknown>)]),
);

const api = {
  ...(methods as Omit<StudioApi, 'onEvent' | 'onReconnect' | 'onConnectionTrouble' | 'pathForFile'>),
  onEvent(listener: (event: StudioEvent) => void): () => void {
    const wrapped = (_: IpcRendererEvent, event: StudioEvent): void => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
  },
  // Dropped files no longer carry .path (Electron 32+); webUtils gives it, for folders dropped on the Dataset card
  // (a dataset) or elsewhere on the window (a model).
  pathForFile(file: File): string | undefined {
    return webUtils.getPathForFile(file) || undefined;
  },
  // IPC to the main process cannot drop; a reloaded page simply starts over with getState.
  onReconnect: () => () => undefined,
} satisfies StudioApi;

export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('studio', api);
