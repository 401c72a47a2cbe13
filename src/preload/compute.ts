// The compute window's preload: it exposes nothing. It takes the one MessagePort main sends and hands
// it to the page with window.postMessage, since a sandboxed page has no ipcRenderer of its own.
import { ipcRenderer } from 'electron';
import { COMPUTE_PORT_CHANNEL, COMPUTE_PORT_MESSAGE } from '@shared/computeProtocol';

ipcRenderer.once(COMPUTE_PORT_CHANNEL, (event) => window.postMessage(COMPUTE_PORT_MESSAGE, '*', event.ports));
