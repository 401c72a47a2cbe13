// The one StudioApi the UI uses. In Electron the preload has put it on window.studio; in a browser it
// is the WebSocket transport to the host that served this page (its token is in the page's URL).
import type { StudioApi } from '@shared/api';
import { socketStudio } from './socketTransport';

declare global {
  interface Window {
    studio?: StudioApi;
  }
}

function connect(): StudioApi {
  if (window.studio) return window.studio;
  const token = new URLSearchParams(location.search).get('token') ?? '';
  return socketStudio(`ws://${location.host}/api?token=${encodeURIComponent(token)}`);
}

export const studio: StudioApi = connect();
